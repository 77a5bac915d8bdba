#include "io/batch_recv.h"

#include <cerrno>
#include <cstring>

#if defined(__linux__) && __has_include(<linux/io_uring.h>)
#define TCE_HAVE_IO_URING 1
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>
#endif

namespace tce {

BatchRecv::~BatchRecv() { Close(); }

#ifdef TCE_HAVE_IO_URING

namespace {

unsigned* At(void* base, uint32_t off) { return reinterpret_cast<unsigned*>(static_cast<char*>(base) + off); }

int Enter(int fd, unsigned submit, unsigned wait) {
  return static_cast<int>(syscall(__NR_io_uring_enter, fd, submit, wait, IORING_ENTER_GETEVENTS, nullptr, 0));
}

}  // namespace

bool BatchRecv::Init(unsigned entries, std::string* why) {
  io_uring_params p{};
  unsigned flags = 0;
#ifdef IORING_SETUP_SUBMIT_ALL
  flags |= IORING_SETUP_SUBMIT_ALL;  // a failed recv does not stop the ones queued after it
#endif
#ifdef IORING_SETUP_COOP_TASKRUN
  flags |= IORING_SETUP_COOP_TASKRUN;
#endif
#ifdef IORING_SETUP_SINGLE_ISSUER
  flags |= IORING_SETUP_SINGLE_ISSUER;
#endif
  p.flags = flags;
  int fd = static_cast<int>(syscall(__NR_io_uring_setup, entries, &p));
  if (fd < 0 && errno == EINVAL && flags != 0) {  // a kernel older than those flags
    p = io_uring_params{};
    fd = static_cast<int>(syscall(__NR_io_uring_setup, entries, &p));
  }
  if (fd < 0) {
    *why = std::string("io_uring_setup: ") + std::strerror(errno);
    return false;
  }
  fd_ = fd;
  sq_map_len_ = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  cq_map_len_ = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  bool single = (p.features & IORING_FEAT_SINGLE_MMAP) != 0;
  if (single && cq_map_len_ > sq_map_len_) sq_map_len_ = cq_map_len_;
  sq_map_ = mmap(nullptr, sq_map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQ_RING);
  if (sq_map_ == MAP_FAILED) sq_map_ = nullptr;
  cq_map_ = single ? sq_map_ : mmap(nullptr, cq_map_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_CQ_RING);
  if (cq_map_ == MAP_FAILED) cq_map_ = nullptr;
  sqes_len_ = p.sq_entries * sizeof(io_uring_sqe);
  sqes_ = mmap(nullptr, sqes_len_, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, fd, IORING_OFF_SQES);
  if (sqes_ == MAP_FAILED) sqes_ = nullptr;
  if (!sq_map_ || !cq_map_ || !sqes_) {
    *why = std::string("io_uring mmap: ") + std::strerror(errno);
    Close();
    return false;
  }
  sq_tail_ = At(sq_map_, p.sq_off.tail);
  sq_mask_ = *At(sq_map_, p.sq_off.ring_mask);
  sq_array_ = At(sq_map_, p.sq_off.array);
  cq_head_ = At(cq_map_, p.cq_off.head);
  cq_tail_ = At(cq_map_, p.cq_off.tail);
  cq_mask_ = *At(cq_map_, p.cq_off.ring_mask);
  cqes_ = static_cast<char*>(cq_map_) + p.cq_off.cqes;
  unsigned got = p.sq_entries < p.cq_entries ? p.sq_entries : p.cq_entries;
  if (entries > got) {
    *why = "io_uring: a ring of " + std::to_string(got) + " entries, " + std::to_string(entries) + " wanted";
    Close();
    return false;
  }
  for (unsigned i = 0; i < p.sq_entries; i++) sq_array_[i] = i;  // slot i holds sqe i, always
  if (!NeverWaits(why)) {
    Close();
    return false;
  }
  return true;
}

// Run waits for every recv of a batch, so a recv must never wait for data.
// Asked of this kernel, not assumed from its version: a recv with
// MSG_DONTWAIT on an empty socket must complete within the submitting call.
bool BatchRecv::NeverWaits(std::string* why) {
  int sv[2];
  if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
    *why = std::string("io_uring probe: socketpair: ") + std::strerror(errno);
    return false;
  }
  char byte;
  Add(sv[0], &byte, 1, 0);
  queued_ = 0;
  __atomic_store_n(sq_tail_, *sq_tail_ + 1, __ATOMIC_RELEASE);
  int r = Enter(fd_, 1, 0);
  int enter_err = r < 0 ? errno : 0;
  bool waited = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE) == *cq_head_;
  if (waited && r == 1) {
    close(sv[1]);  // the parked recv ends at the end of stream: reaped before the ring goes
    sv[1] = -1;
    Enter(fd_, 0, 1);
  }
  int res = 0;
  unsigned head = *cq_head_;
  unsigned tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
  if (head != tail) res = (static_cast<const io_uring_cqe*>(cqes_) + (head & cq_mask_))->res;
  __atomic_store_n(cq_head_, tail, __ATOMIC_RELEASE);
  close(sv[0]);
  if (sv[1] >= 0) close(sv[1]);
  if (r != 1) {
    *why = std::string("io_uring probe: io_uring_enter: ") + std::strerror(r < 0 ? enter_err : EIO);
    return false;
  }
  if (waited) {
    *why = "io_uring: this kernel parks a recv with MSG_DONTWAIT on an empty socket";
    return false;
  }
  if (res != -EAGAIN) {
    *why = std::string("io_uring: a recv with MSG_DONTWAIT on an empty socket gave ") + (res < 0 ? std::strerror(-res) : std::to_string(res)) + ", not EAGAIN";
    return false;
  }
  return true;
}

void BatchRecv::Add(int fd, char* buf, size_t n, uint32_t slot) {
  unsigned tail = *sq_tail_ + queued_++;  // only this thread writes the tail
  auto* sqe = static_cast<io_uring_sqe*>(sqes_) + (tail & sq_mask_);
  std::memset(sqe, 0, sizeof *sqe);
  sqe->opcode = IORING_OP_RECV;
  sqe->fd = fd;
  sqe->addr = reinterpret_cast<uint64_t>(buf);
  sqe->len = static_cast<uint32_t>(n);
  sqe->msg_flags = MSG_DONTWAIT;
  sqe->user_data = slot;
}

bool BatchRecv::Run(std::vector<ssize_t>* results, std::string* why) {
  unsigned n = queued_;
  queued_ = 0;
  if (n == 0) return true;
  __atomic_store_n(sq_tail_, *sq_tail_ + n, __ATOMIC_RELEASE);
  unsigned to_submit = n, got = 0;
  while (got < n) {
    int r = Enter(fd_, to_submit, n - got);
    int err = r < 0 ? errno : 0;
    if (r > 0) to_submit -= static_cast<unsigned>(r);
    // Reaped before a failure is acted on: a recv that completed has read its bytes.
    unsigned head = *cq_head_;
    unsigned tail = __atomic_load_n(cq_tail_, __ATOMIC_ACQUIRE);
    for (; head != tail; head++, got++) {
      const auto* cqe = static_cast<const io_uring_cqe*>(cqes_) + (head & cq_mask_);
      if (cqe->user_data < results->size()) (*results)[cqe->user_data] = cqe->res;
    }
    __atomic_store_n(cq_head_, head, __ATOMIC_RELEASE);
    if (err != 0 && err != EINTR && err != EAGAIN && err != EBUSY) {
      *why = std::string("io_uring_enter: ") + std::strerror(err);
      Close();
      return false;
    }
  }
  return true;
}

void BatchRecv::Close() {
  if (sqes_) munmap(sqes_, sqes_len_);
  if (cq_map_ && cq_map_ != sq_map_) munmap(cq_map_, cq_map_len_);
  if (sq_map_) munmap(sq_map_, sq_map_len_);
  if (fd_ >= 0) close(fd_);
  sqes_ = sq_map_ = cq_map_ = nullptr;
  fd_ = -1;
  queued_ = 0;
}

#else  // no io_uring here: the I/O thread reads with read()

bool BatchRecv::Init(unsigned, std::string* why) {
  *why = "built without <linux/io_uring.h>";
  return false;
}
void BatchRecv::Add(int, char*, size_t, uint32_t) {}
bool BatchRecv::Run(std::vector<ssize_t>*, std::string* why) {
  *why = "no io_uring";
  return false;
}
void BatchRecv::Close() {}

#endif

}  // namespace tce
