// The I/O thread's reads of one wake in one syscall (Linux io_uring).
//
// A wake finds several sockets ready (a GPU server writes one event per
// stream per decode step, all streams in one burst); read() costs a syscall
// each, and on a paravirtualised guest the syscall's entry and exit were a
// fifth of the thread's time (docs/performance.md, stop 26). Here each ready
// socket gets one IORING_OP_RECV, all are submitted and reaped with a single
// io_uring_enter, and each recv runs inline in that call: MSG_DONTWAIT makes
// a socket with nothing to read complete at once with -EAGAIN rather than
// wait (io_uring/net.c sets REQ_F_NOWAIT for it), so the call never blocks.
//
// Only the submitting thread may use it (IORING_SETUP_SINGLE_ISSUER where
// the kernel has it). Where io_uring is missing or refused (an old kernel,
// kernel.io_uring_disabled, a container's seccomp profile), Init fails with
// the reason and the caller reads with read() as before.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <sys/types.h>
#include <vector>

namespace tce {

class BatchRecv {
 public:
  BatchRecv() = default;
  ~BatchRecv();
  BatchRecv(const BatchRecv&) = delete;
  BatchRecv& operator=(const BatchRecv&) = delete;

  /** Sets up a ring for up to `entries` recvs a batch; false with the reason. */
  bool Init(unsigned entries, std::string* why);
  bool ready() const { return fd_ >= 0; }

  /** Queues a recv of up to n bytes from fd into buf (at most Init's `entries`
   * a batch); its result comes back as slot `slot`. */
  void Add(int fd, char* buf, size_t n, uint32_t slot);
  /** Submits the queued recvs and waits for all of them. results[slot] is
   * each recv's byte count, 0 at end of stream, or -errno (read()'s errno,
   * negated). False with the reason when the ring failed: then nothing of the
   * batch was read, and the caller reads those sockets itself. */
  bool Run(std::vector<ssize_t>* results, std::string* why);

 private:
  void Close();
  bool NeverWaits(std::string* why);

  int fd_ = -1;
  unsigned queued_ = 0;
  void* sq_map_ = nullptr;
  size_t sq_map_len_ = 0;
  void* cq_map_ = nullptr;  // == sq_map_ with IORING_FEAT_SINGLE_MMAP
  size_t cq_map_len_ = 0;
  void* sqes_ = nullptr;
  size_t sqes_len_ = 0;
  unsigned* sq_tail_ = nullptr;
  unsigned sq_mask_ = 0;
  unsigned* sq_array_ = nullptr;
  unsigned* cq_head_ = nullptr;
  unsigned* cq_tail_ = nullptr;
  unsigned cq_mask_ = 0;
  void* cqes_ = nullptr;
};

}  // namespace tce
