// The raw http: route's I/O thread (Linux): sockets owned and read by a
// thread of the addon with its own epoll loop, so that per SSE event the
// driver pays the kernel's cost (epoll_wait and io_uring_enter, shared by the
// sockets ready at once, and one recv) and no JavaScript. Responses are framed here with the
// same HttpResponse as the node:net route; a 200's body is kept as the
// chunks the reads produced, each with its read time, and handed to the
// main thread in one piece when the response is complete. The engine is
// never touched here (it is main-thread only): the binding feeds it the
// chunks, with their real read times, in one call per turn.
//
// Threads: the main thread opens, connects, sends (it writes the request
// itself when the socket takes it whole) and closes; the I/O thread reads,
// frames and finishes pending writes. Each holds a connection's own mutex
// while touching it (the loop's `mu_` guards only the map and the event
// queue, briefly), and connections are found by id (epoll carries the id,
// never a pointer), so a connection closed by the main thread while its
// event was in flight is not found, or found closed.
//
// The poll window: after a batch of ready sockets the thread may sleep a
// fixed window before it polls again, so that the events arriving meanwhile
// (a GPU server writes one event per stream per decode step, all streams
// within a burst) are taken in one wake instead of one each. A read then
// happens, and is timed, at most one window (plus the kernel's timer
// slack) after its bytes arrived; an idle loop still wakes at once.
//
// The reads of one wake go through one io_uring_enter (batch_recv.h) where
// the kernel allows it, else a read() each. The thread holds every ready connection's mutex from its
// readiness through its read, so no socket of the batch can be closed (and
// its descriptor reused) under a queued recv.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "core/http_response.h"
#include "io/batch_recv.h"

namespace tce {

enum class IoEventKind : uint8_t {
  kDone = 1,     // the response is complete; code: the outcome (status * 4 + hint 2 + keep-alive 1)
  kFailed = 2,   // malformed, cut short or a socket error; code: the status seen (0 before the head)
  kDropped = 3,  // an idle connection closed (by the server, or bytes nobody asked for)
};

struct IoEvent {
  uint32_t conn;
  IoEventKind kind;
  int32_t code;
};

/** One connection: its socket, pending output, framer and the response so far. */
struct IoConn : HttpBodySink {
  enum class Sock : uint8_t { kNone, kConnecting, kOpen, kClosed };
  std::mutex mu;          // everything below, and the socket's I/O
  uint32_t id = 0;
  int fd = -1;
  Sock sock = Sock::kNone;
  bool busy = false;      // a request is in flight (from Send to its event)
  bool used = false;      // a request was sent on it
  bool out_armed = false; // EPOLLOUT is in the socket's epoll mask
  std::string out;        // request bytes not yet written
  size_t out_off = 0;
  std::string peer;       // "ip:port" being tried or connected, for error messages
  std::vector<std::string> addrs;  // the addresses to try, in order (as node:net's autoSelectFamily)
  size_t addr_next = 0;
  int port = 0;
  std::string attempts;   // the failed attempts so far, "; "-joined
  int attempt_timeout_ms = 0;  // an attempt with addresses after it gives up after this (0: never)
  uint32_t attempt = 0;   // counts attempts, so a timer set for an earlier one is recognised
  HttpResponse res;
  uint32_t stream = 0;    // the engine stream a 200 body feeds (bound by the caller)
  double now = 0;         // the current read's time (performance.now() ms)
  // A 200 body: chunk i is body[ends[i-1], ends[i]) read at times[i].
  std::string body;
  std::vector<size_t> ends;
  std::vector<double> times;
  std::string error_body; // a non-200's body, up to kMaxErrorBody
  std::string error;      // a socket error ("connect ECONNREFUSED 127.0.0.1:80")
  void Body(const char* p, size_t n) override;
};

class IoLoop {
 public:
  /** `wake` runs on any thread when events wait and none was signalled since
   * the last TakeEvents. perf_offset_ms maps CLOCK_MONOTONIC to the caller's clock. */
  IoLoop(std::function<void()> wake, double perf_offset_ms);
  ~IoLoop();
  bool Start(std::string* error);
  /** Stops and joins the thread, closes every socket. Idempotent. */
  void Stop();
  bool running() const { return running_; }

  uint32_t Open();
  /** A non-blocking connect to the first of `ips` (numeric) that takes it,
   * tried in order; a failure of them all arrives as an event. An attempt
   * with addresses after it is abandoned after attempt_timeout_ms (0: never),
   * as node:net's autoSelectFamilyAttemptTimeout. */
  void Connect(uint32_t id, const std::vector<std::string>& ips, int port, int attempt_timeout_ms);
  /** Sends a request on `id` (queued until connected); a 200 body is kept for `stream`. */
  void Send(uint32_t id, uint32_t stream, const char* head, size_t head_n, const char* body, size_t body_n);
  /** Still fit to carry a request: its socket not closed (or not yet opened). */
  bool Usable(uint32_t id);
  /** The status of the response in flight once its head is complete, else 0. */
  int Status(uint32_t id);
  void Close(uint32_t id);
  void TakeEvents(std::vector<IoEvent>* out);
  /** No request in flight and no completion waiting to be taken. */
  bool Quiet();
  /** Runs f on a connection under the lock (nullptr when unknown). */
  void With(uint32_t id, const std::function<void(IoConn*)>& f);
  /** CLOCK_MONOTONIC in ms. */
  static double MonoMs();
  /** The poll window in µs (0: poll again at once); takes effect from the next batch. */
  void SetWindow(uint32_t us) { window_us_.store(us, std::memory_order_relaxed); }
  uint32_t window() const { return window_us_.load(std::memory_order_relaxed); }
  /** Wakes that found a socket ready, and socket reads that returned bytes, since Start. */
  uint64_t wakes() const { return wakes_.load(std::memory_order_relaxed); }
  uint64_t reads() const { return reads_.load(std::memory_order_relaxed); }
  /** Reads through io_uring batches (a subset of reads()). */
  uint64_t batched_reads() const { return batched_reads_.load(std::memory_order_relaxed); }
  /** Whether a wake's reads may be batched; off, each socket gets a read(). */
  void SetBatchReads(bool on) { batch_reads_.store(on, std::memory_order_relaxed); }
  /** "io_uring", "off", or why there is no ring ("io_uring_setup: Operation not permitted"). */
  std::string BatchState();

 private:
  void Run();
  void Pause();
  void Signal();
  bool Handle(IoConn* c, uint32_t events);
  void ReadAll(const std::vector<IoConn*>& conns);
  bool RingReady();
  void Readable(IoConn* c);
  void Received(IoConn* c, ssize_t n, const char* data, bool batched);
  void Flush(IoConn* c);
  void Arm(IoConn* c, bool out);
  void CloseFd(IoConn* c);
  void Post(IoConn* c, IoEventKind kind, int32_t code);
  void Fail(IoConn* c, const std::string& error);
  void ConnectNext(IoConn* c);
  void AttemptFailed(IoConn* c, const std::string& error);
  void Break(const std::string& why);
  int NextTimeoutMs();
  void ExpireAttempts();
  std::string Broken();
  void Complete(IoConn* c, HttpResponse::State st);
  void WakeIfNeeded();
  std::shared_ptr<IoConn> Get(uint32_t id);

  std::function<void()> wake_;
  double offset_;
  int ep_ = -1;
  int wake_fd_ = -1;  // an eventfd (Signal): Stop's, and a new attempt timer's (the loop recomputes its wait)
  std::thread thread_;
  std::atomic<bool> stop_{false};
  std::atomic<uint32_t> window_us_{0};
  std::atomic<uint64_t> wakes_{0};
  std::atomic<uint64_t> reads_{0};
  std::atomic<uint64_t> batched_reads_{0};
  std::atomic<bool> batch_reads_{true};
  bool running_ = false;
  std::mutex mu_;
  std::unordered_map<uint32_t, std::shared_ptr<IoConn>> conns_;
  uint32_t next_ = 1;
  size_t busy_ = 0;
  std::vector<IoEvent> events_;
  // Connect attempts that time out (ConnectNext), guarded by mu_; a timer whose
  // attempt has since connected or failed is dropped when it comes due.
  struct AttemptTimer {
    double at;  // MonoMs
    uint32_t conn;
    uint32_t attempt;
  };
  std::vector<AttemptTimer> timers_;
  std::atomic<bool> any_timer_{false};  // timers_ is not empty: read without mu_ on every wake
  std::string broken_;  // why the loop stopped polling ("epoll_wait EBADF"); empty while it polls
  bool signalled_ = false;
  bool need_wake_ = false;
  std::vector<char> buf_;
  // The I/O thread's own: the ring, its per-recv buffers (kMaxEvents slots
  // of a read's size, reserved lazily), and why it has none (ring_why_, under mu_).
  BatchRecv ring_;
  bool ring_tried_ = false;
  std::unique_ptr<char[]> slots_;
  std::vector<ssize_t> results_;
  std::string ring_why_;
};

}  // namespace tce
