// Kernel cost per small read on this machine: one reader thread over 64
// loopback TCP connections, a writer thread sending one 300-byte message per
// connection per round (as the paced replay server does). Reader modes:
// epoll (epoll_wait + one read per ready socket, as the I/O thread) and
// uring (io_uring multishot recv into provided buffers, one io_uring_enter
// per wake-up: no read syscall per message).
//
//   g++ -O2 -std=c++17 -pthread native/bench/read_cost.cc -o /tmp/read_cost
//   /tmp/read_cost epoll|uring [rounds=2000] [gap: writer spin between writes, ~µs] Prints the reader thread's user/sys CPU per
// message, wake-ups (voluntary context switches) per message.
#include <arpa/inet.h>
#include <linux/io_uring.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <thread>
#include <vector>

constexpr int kConns = 64;
constexpr int kMsg = 300;
static std::atomic<long> received{0};

static void Pairs(std::vector<int>* w, std::vector<int>* r) {
  int ls = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bind(ls, (sockaddr*)&a, sizeof a);
  listen(ls, 128);
  socklen_t l = sizeof a;
  getsockname(ls, (sockaddr*)&a, &l);
  for (int i = 0; i < kConns; i++) {
    int c = socket(AF_INET, SOCK_STREAM, 0);
    connect(c, (sockaddr*)&a, sizeof a);
    int s = accept(ls, nullptr, nullptr);
    int one = 1;
    setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    w->push_back(s);
    r->push_back(c);
  }
  close(ls);
}

static void Usage(const char* what, rusage& a, rusage& b, long msgs) {
  double u = (b.ru_utime.tv_sec - a.ru_utime.tv_sec) * 1e6 + (b.ru_utime.tv_usec - a.ru_utime.tv_usec);
  double s = (b.ru_stime.tv_sec - a.ru_stime.tv_sec) * 1e6 + (b.ru_stime.tv_usec - a.ru_stime.tv_usec);
  std::printf("%s: reader µs/msg user %.2f sys %.2f total %.2f; wake-ups/msg %.2f\n", what, u / msgs, s / msgs, (u + s) / msgs,
              double(b.ru_nvcsw - a.ru_nvcsw) / msgs);
}

static void EpollReader(std::vector<int> fds, long total) {
  int ep = epoll_create1(0);
  for (int i = 0; i < kConns; i++) {
    epoll_event ev{};
    ev.events = EPOLLIN;
    ev.data.u32 = i;
    epoll_ctl(ep, EPOLL_CTL_ADD, fds[i], &ev);
  }
  char buf[65536];
  epoll_event evs[256];
  rusage a, b;
  getrusage(RUSAGE_THREAD, &a);
  long bytes = 0;
  while (bytes < total * kMsg) {
    int n = epoll_wait(ep, evs, 256, -1);
    for (int i = 0; i < n; i++) {
      ssize_t r = read(fds[evs[i].data.u32], buf, sizeof buf);
      if (r > 0) bytes += r;
    }
    received = bytes / kMsg;
  }
  getrusage(RUSAGE_THREAD, &b);
  Usage("epoll + read", a, b, total);
}

static int Setup(unsigned entries, io_uring_params* p) { return (int)syscall(__NR_io_uring_setup, entries, p); }
static int Enter(int fd, unsigned sub, unsigned minc, unsigned flags) { return (int)syscall(__NR_io_uring_enter, fd, sub, minc, flags, nullptr, 0); }

static void UringReader(std::vector<int> fds, long total) {
  io_uring_params p{};
  p.flags = IORING_SETUP_SINGLE_ISSUER | IORING_SETUP_DEFER_TASKRUN;
  int ring = Setup(256, &p);
  if (ring < 0) { perror("io_uring_setup"); return; }
  size_t sq_sz = p.sq_off.array + p.sq_entries * sizeof(unsigned);
  size_t cq_sz = p.cq_off.cqes + p.cq_entries * sizeof(io_uring_cqe);
  char* sq = (char*)mmap(nullptr, sq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
  char* cq = (p.features & IORING_FEAT_SINGLE_MMAP) ? sq : (char*)mmap(nullptr, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_CQ_RING);
  if (p.features & IORING_FEAT_SINGLE_MMAP && cq_sz > sq_sz) {
    munmap(sq, sq_sz);
    sq = cq = (char*)mmap(nullptr, cq_sz, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQ_RING);
  }
  auto* sqes = (io_uring_sqe*)mmap(nullptr, p.sq_entries * sizeof(io_uring_sqe), PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, ring, IORING_OFF_SQES);
  auto* sq_tail = (std::atomic<unsigned>*)(sq + p.sq_off.tail);
  auto* sq_mask = (unsigned*)(sq + p.sq_off.ring_mask);
  auto* sq_array = (unsigned*)(sq + p.sq_off.array);
  auto* cq_head = (std::atomic<unsigned>*)(cq + p.cq_off.head);
  auto* cq_tail = (std::atomic<unsigned>*)(cq + p.cq_off.tail);
  auto* cq_mask = (unsigned*)(cq + p.cq_off.ring_mask);
  auto* cqes = (io_uring_cqe*)(cq + p.cq_off.cqes);
  // Provided buffers (IORING_OP_PROVIDE_BUFFERS): 512 of 4 KiB, each given back after use.
  constexpr unsigned kBufs = 512, kBufSz = 4096;
  std::vector<char> bufs(size_t(kBufs) * kBufSz);
  auto next_sqe = [&]() {
    unsigned t = sq_tail->load(std::memory_order_relaxed);
    io_uring_sqe* e = &sqes[t & *sq_mask];
    std::memset(e, 0, sizeof *e);
    sq_array[t & *sq_mask] = t & *sq_mask;
    return e;
  };
  auto commit = [&]() { sq_tail->store(sq_tail->load(std::memory_order_relaxed) + 1, std::memory_order_release); };
  auto provide = [&](unsigned bid, unsigned n) {
    io_uring_sqe* e = next_sqe();
    e->opcode = IORING_OP_PROVIDE_BUFFERS;
    e->fd = (int)n;
    e->addr = (unsigned long)(bufs.data() + size_t(bid) * kBufSz);
    e->len = kBufSz;
    e->off = bid;
    e->buf_group = 1;
    e->user_data = ~0UL;
    commit();
  };
  provide(0, kBufs);
  Enter(ring, 1, 1, IORING_ENTER_GETEVENTS);
  cq_head->store(cq_head->load() + 1);  // the provide's completion
  auto arm = [&](int i) {
    io_uring_sqe* e = next_sqe();
    e->opcode = IORING_OP_RECV;
    e->fd = fds[i];
    e->ioprio = IORING_RECV_MULTISHOT;
    e->flags = IOSQE_BUFFER_SELECT;
    e->buf_group = 1;
    e->user_data = (unsigned long)i;
    commit();
  };
  for (int i = 0; i < kConns; i++) arm(i);
  unsigned pending = kConns;
  rusage a, b;
  getrusage(RUSAGE_THREAD, &a);
  long bytes = 0;
  while (bytes < total * kMsg) {
    Enter(ring, pending, 1, IORING_ENTER_GETEVENTS);
    pending = 0;
    unsigned h = cq_head->load(std::memory_order_relaxed), t = cq_tail->load(std::memory_order_acquire);
    for (; h != t; h++) {
      io_uring_cqe* c = &cqes[h & *cq_mask];
      if (c->user_data == ~0UL) continue;  // a provide
      int i = (int)c->user_data;

      if (c->res > 0) {
        bytes += c->res;
        provide(c->flags >> IORING_CQE_BUFFER_SHIFT, 1);
        pending++;
      }
      if (!(c->flags & IORING_CQE_F_MORE)) { arm(i); pending++; }
    }
    cq_head->store(h, std::memory_order_release);
    received = bytes / kMsg;
  }
  getrusage(RUSAGE_THREAD, &b);
  Usage("io_uring multishot recv", a, b, total);
}

int main(int argc, char** argv) {
  const char* mode = argc > 1 ? argv[1] : "epoll";
  long rounds = argc > 2 ? atol(argv[2]) : 2000;
  int gap_us = argc > 3 ? atoi(argv[3]) : 0;
  std::vector<int> w, r;
  Pairs(&w, &r);
  long total = rounds * kConns;
  std::thread reader(std::strcmp(mode, "uring") == 0 ? UringReader : EpollReader, r, total);
  char msg[kMsg];
  std::memset(msg, 'x', sizeof msg);
  usleep(100000);
  for (long k = 0; k < rounds; k++) {
    for (int i = 0; i < kConns; i++) {
      if (write(w[i], msg, kMsg) != kMsg) return 1;
      // The paced server does some work between writes (node's loop turn).
      for (volatile int s = 0; s < gap_us * 300; s++) {}
    }
    while (received < (k - 4) * kConns) {}  // stay within a few rounds of the reader
  }
  reader.join();
  return 0;
}
