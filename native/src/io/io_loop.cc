#include "io/io_loop.h"

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <chrono>
#include <cmath>
#include <ctime>

#ifdef __linux__
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/uio.h>
#include <unistd.h>
#endif

namespace tce {

namespace {

constexpr size_t kReadBuffer = 64 * 1024;

#ifdef __linux__
constexpr int kMaxEvents = 256;

// node:net's words for a socket error ("connect ECONNREFUSED 127.0.0.1:80").
std::string ErrName(int err) {
#if defined(__GLIBC__) && (__GLIBC__ > 2 || (__GLIBC__ == 2 && __GLIBC_MINOR__ >= 32))
  if (const char* n = strerrorname_np(err)) return n;
#endif
  return std::strerror(err);
}
#endif

}  // namespace

void IoConn::Body(const char* p, size_t n) {
  if (res.status() == 200) {
    // One entry per span, as the node:net route feeds them (the engine
    // accounts tokens per feed).
    body.append(p, n);
    ends.push_back(body.size());
    times.push_back(now);
  } else {
    AppendErrorBody(error_body, p, n);
  }
}

// steady_clock is CLOCK_MONOTONIC on Linux (libstdc++ and libc++), the
// clock under libuv's uv_hrtime and so under performance.now().
double IoLoop::MonoMs() {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

IoLoop::IoLoop(std::function<void()> wake, double perf_offset_ms) : wake_(std::move(wake)), offset_(perf_offset_ms), buf_(kReadBuffer) {}

IoLoop::~IoLoop() { Stop(); }

bool IoLoop::Quiet() {
  std::lock_guard<std::mutex> l(mu_);
  return busy_ == 0 && events_.empty();
}

std::shared_ptr<IoConn> IoLoop::Get(uint32_t id) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = conns_.find(id);
  return it == conns_.end() ? nullptr : it->second;
}

void IoLoop::With(uint32_t id, const std::function<void(IoConn*)>& f) {
  std::shared_ptr<IoConn> c = Get(id);
  if (!c) return f(nullptr);
  std::lock_guard<std::mutex> l(c->mu);
  f(c.get());
}

uint32_t IoLoop::Open() {
  std::lock_guard<std::mutex> l(mu_);
  uint32_t id = next_++;
  if (next_ == 0) next_ = 1;
  auto c = std::make_shared<IoConn>();
  c->id = id;
  conns_[id] = std::move(c);
  return id;
}

bool IoLoop::Usable(uint32_t id) {
  std::shared_ptr<IoConn> c = Get(id);
  if (!c) return false;
  std::lock_guard<std::mutex> l(c->mu);
  return c->sock != IoConn::Sock::kClosed && !c->busy;
}

int IoLoop::Status(uint32_t id) {
  std::shared_ptr<IoConn> c = Get(id);
  if (!c) return 0;
  std::lock_guard<std::mutex> l(c->mu);
  return c->res.status_seen();
}

void IoLoop::TakeEvents(std::vector<IoEvent>* out) {
  std::lock_guard<std::mutex> l(mu_);
  out->swap(events_);
  events_.clear();
  signalled_ = false;
}

// Called with c->mu held; the wake itself runs after the locks are released (WakeIfNeeded).
void IoLoop::Post(IoConn* c, IoEventKind kind, int32_t code) {
  std::lock_guard<std::mutex> l(mu_);
  if (kind != IoEventKind::kDropped && c->busy) {
    c->busy = false;
    busy_--;
  }
  events_.push_back({c->id, kind, code});
  if (!signalled_) signalled_ = need_wake_ = true;
}

void IoLoop::WakeIfNeeded() {
  bool w;
  {
    std::lock_guard<std::mutex> l(mu_);
    w = need_wake_;
    need_wake_ = false;
  }
  if (w) wake_();
}

#ifdef __linux__

bool IoLoop::Start(std::string* error) {
  ep_ = epoll_create1(EPOLL_CLOEXEC);
  wake_fd_ = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (ep_ < 0 || wake_fd_ < 0) {
    *error = std::string("epoll/eventfd: ") + std::strerror(errno);
    return false;
  }
  epoll_event ev{};
  ev.events = EPOLLIN;
  ev.data.u64 = 0;  // connection ids start at 1
  epoll_ctl(ep_, EPOLL_CTL_ADD, wake_fd_, &ev);
  try {
    thread_ = std::thread([this] { Run(); });
  } catch (const std::exception& e) {
    *error = e.what();
    return false;
  }
  running_ = true;
  return true;
}

// Wakes the thread out of epoll_wait: for Stop, or to recompute its timeout.
void IoLoop::Signal() {
  uint64_t one = 1;
  ssize_t w = write(wake_fd_, &one, sizeof one);
  (void)w;
}

void IoLoop::Stop() {
  if (running_) {
    stop_ = true;
    Signal();
    thread_.join();
    running_ = false;
  }
  std::unordered_map<uint32_t, std::shared_ptr<IoConn>> conns;
  {
    std::lock_guard<std::mutex> l(mu_);
    conns.swap(conns_);
    busy_ = 0;
  }
  for (auto& kv : conns) {
    std::lock_guard<std::mutex> l(kv.second->mu);
    CloseFd(kv.second.get());
  }
  if (ep_ >= 0) close(ep_);
  if (wake_fd_ >= 0) close(wake_fd_);
  ep_ = wake_fd_ = -1;
}

// Locks: mu_ (the map and the event queue) is held only briefly and never
// across a syscall; each connection's own mutex covers its socket and
// state, so the main thread sending on one connection never waits for the
// reads of others. Order: a connection's mutex, then mu_.
void IoLoop::Run() {
  // Named for top -H, perf and /proc: its CPU is the route's per-event cost.
  pthread_setname_np(pthread_self(), "tce-io");
  // The ring's fd is taken now, not at some later wake, so the loop's
  // descriptors are all there once the thread has started.
  RingReady();
  epoll_event evs[kMaxEvents];
  std::vector<std::pair<std::shared_ptr<IoConn>, uint32_t>> ready;
  std::vector<std::unique_lock<std::mutex>> held;
  std::vector<IoConn*> reading;
  while (!stop_) {
    int n = epoll_wait(ep_, evs, kMaxEvents, NextTimeoutMs());
    if (n < 0) {
      if (errno == EINTR) continue;
      Break("epoll_wait " + ErrName(errno));
      break;
    }
    ready.clear();
    bool full = n == kMaxEvents;
    bool signalled = false;
    {
      std::lock_guard<std::mutex> l(mu_);
      for (int i = 0; i < n; i++) {
        if (evs[i].data.u64 == 0) {  // Stop (the loop condition ends it) or a new timer
          signalled = true;
          continue;
        }
        auto it = conns_.find(static_cast<uint32_t>(evs[i].data.u64));
        uint32_t events = evs[i].events;  // epoll_event is packed: copy, not bind
        if (it != conns_.end()) ready.emplace_back(it->second, events);  // else closed meanwhile
      }
    }
    if (signalled) {
      uint64_t v;
      ssize_t r = read(wake_fd_, &v, sizeof v);
      (void)r;
    }
    bool any = !ready.empty();
    // Every ready connection stays locked until its read is done (io_loop.h).
    for (auto& r : ready) {
      held.emplace_back(r.first->mu);
      // A connection closed since is kClosed: nothing happens.
      if (Handle(r.first.get(), r.second)) reading.push_back(r.first.get());
    }
    ReadAll(reading);
    reading.clear();
    held.clear();
    ready.clear();
    // After the batch: a connect that completed in it beats its timer.
    ExpireAttempts();
    WakeIfNeeded();
    if (any) {
      wakes_.fetch_add(1, std::memory_order_relaxed);
      // A full batch means more are ready already: poll again at once.
      if (!full) Pause();
    }
  }
}

// The poll window (io_loop.h). Nothing is held while it sleeps: the main
// thread sends and closes meanwhile, and Stop's signal is seen after it.
void IoLoop::Pause() {
  uint32_t us = window_us_.load(std::memory_order_relaxed);
  if (us == 0 || stop_) return;
  timespec ts{static_cast<time_t>(us / 1000000), static_cast<long>(us % 1000000) * 1000};
  // A signal cuts the sleep short; that only shortens one window.
  clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, nullptr);
}

// epoll_wait's timeout: until the next attempt timer is due, or none (-1).
int IoLoop::NextTimeoutMs() {
  if (!any_timer_.load(std::memory_order_acquire)) return -1;
  std::lock_guard<std::mutex> l(mu_);
  if (timers_.empty()) return -1;
  double next = timers_.front().at;
  for (const AttemptTimer& t : timers_) next = std::min(next, t.at);
  double ms = next - MonoMs();
  return ms <= 0 ? 0 : static_cast<int>(std::ceil(ms));
}

// Attempts past their timeout give way to the next address; node:net
// records such an attempt as "connect ETIMEDOUT <address>:<port>".
void IoLoop::ExpireAttempts() {
  if (!any_timer_.load(std::memory_order_acquire)) return;
  std::vector<AttemptTimer> due;
  {
    std::lock_guard<std::mutex> l(mu_);
    double now = MonoMs();
    auto keep = std::partition(timers_.begin(), timers_.end(), [now](const AttemptTimer& t) { return t.at > now; });
    due.assign(keep, timers_.end());
    timers_.erase(keep, timers_.end());
    any_timer_.store(!timers_.empty(), std::memory_order_release);
  }
  for (const AttemptTimer& t : due) {
    std::shared_ptr<IoConn> c = Get(t.conn);
    if (!c) continue;
    std::lock_guard<std::mutex> l(c->mu);
    if (c->sock != IoConn::Sock::kConnecting || c->attempt != t.attempt) continue;  // connected, failed or closed since
    AttemptFailed(c.get(), "connect ETIMEDOUT " + c->peer);
    ConnectNext(c.get());
  }
}

// The loop can no longer learn that any socket is ready (its epoll fd is
// gone or broken): every request in flight fails now with the reason, and
// every later connect fails at once, instead of each waiting for its deadline.
void IoLoop::Break(const std::string& why) {
  std::vector<std::shared_ptr<IoConn>> all;
  {
    std::lock_guard<std::mutex> l(mu_);
    broken_ = why;
    all.reserve(conns_.size());
    for (auto& kv : conns_) all.push_back(kv.second);
  }
  for (auto& c : all) {
    std::lock_guard<std::mutex> l(c->mu);
    if (c->sock != IoConn::Sock::kClosed) Fail(c.get(), why);
  }
  WakeIfNeeded();
}

std::string IoLoop::Broken() {
  std::lock_guard<std::mutex> l(mu_);
  return broken_;
}

void IoLoop::Arm(IoConn* c, bool out) {
  if (c->fd < 0) return;
  epoll_event ev{};
  ev.events = EPOLLIN | EPOLLRDHUP | (out ? static_cast<uint32_t>(EPOLLOUT) : 0u);
  ev.data.u64 = c->id;
  epoll_ctl(ep_, EPOLL_CTL_MOD, c->fd, &ev);
  c->out_armed = out;
}

void IoLoop::CloseFd(IoConn* c) {
  if (c->fd >= 0) {
    if (ep_ >= 0) epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);
    close(c->fd);
  }
  c->fd = -1;
  c->sock = IoConn::Sock::kClosed;
  std::string().swap(c->out);
  c->out_off = 0;
}

void IoLoop::Fail(IoConn* c, const std::string& error) {
  bool was_busy = c->busy;
  int status = c->res.status_seen();
  c->error = error;
  CloseFd(c);
  if (was_busy) Post(c, IoEventKind::kFailed, status);
  // A connect that failed before the first request: that request fails with it (Send).
  else if (c->used) Post(c, IoEventKind::kDropped, 0);
}

void IoLoop::Connect(uint32_t id, const std::vector<std::string>& ips, int port, int attempt_timeout_ms) {
  {
    std::shared_ptr<IoConn> keep = Get(id);
    if (!keep) return;
    std::lock_guard<std::mutex> l(keep->mu);
    IoConn* c = keep.get();
    if (c->sock != IoConn::Sock::kNone) return;
    std::string broken = Broken();
    if (!broken.empty()) return Fail(c, broken);
    c->addrs = ips;
    c->addr_next = 0;
    c->port = port;
    c->attempt_timeout_ms = attempt_timeout_ms;
    c->attempts.clear();
    ConnectNext(c);
  }
  WakeIfNeeded();
}

// One attempt failed: its socket goes (the queued request stays) and the
// next address is tried; node:net's autoSelectFamily goes on the same way.
void IoLoop::AttemptFailed(IoConn* c, const std::string& error) {
  if (!c->attempts.empty()) c->attempts += "; ";
  c->attempts += error;
  if (c->fd >= 0) {
    epoll_ctl(ep_, EPOLL_CTL_DEL, c->fd, nullptr);  // ENOENT when it failed before it was added
    close(c->fd);
  }
  c->fd = -1;
  c->sock = IoConn::Sock::kNone;
  c->out_armed = false;
}

void IoLoop::ConnectNext(IoConn* c) {
  while (c->addr_next < c->addrs.size()) {
    const std::string& ip = c->addrs[c->addr_next++];
    bool v6 = ip.find(':') != std::string::npos;
    c->peer = ip + ":" + std::to_string(c->port);
    sockaddr_storage ss{};
    socklen_t len;
    if (v6) {
      auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(static_cast<uint16_t>(c->port));
      if (inet_pton(AF_INET6, ip.c_str(), &a->sin6_addr) != 1) { AttemptFailed(c, "connect EINVAL " + c->peer); continue; }
      len = sizeof *a;
    } else {
      auto* a = reinterpret_cast<sockaddr_in*>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(static_cast<uint16_t>(c->port));
      if (inet_pton(AF_INET, ip.c_str(), &a->sin_addr) != 1) { AttemptFailed(c, "connect EINVAL " + c->peer); continue; }
      len = sizeof *a;
    }
    int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) { AttemptFailed(c, "connect " + ErrName(errno) + " " + c->peer); continue; }
    int one = 1, idle = 60;
    // As node:net's noDelay and keepAlive (60 s initial delay) on the other route.
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    setsockopt(fd, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof one);
    setsockopt(fd, IPPROTO_TCP, TCP_KEEPIDLE, &idle, sizeof idle);
    c->fd = fd;
    int r = connect(fd, reinterpret_cast<sockaddr*>(&ss), len);
    if (r < 0 && errno != EINPROGRESS) {
      AttemptFailed(c, "connect " + ErrName(errno) + " " + c->peer);
      continue;
    }
    c->sock = r == 0 ? IoConn::Sock::kOpen : IoConn::Sock::kConnecting;
    c->attempt++;
    if (c->sock == IoConn::Sock::kConnecting && c->addr_next < c->addrs.size() && c->attempt_timeout_ms > 0) {
      {
        std::lock_guard<std::mutex> l(mu_);
        timers_.push_back({MonoMs() + c->attempt_timeout_ms, c->id, c->attempt});
        any_timer_.store(true, std::memory_order_release);
      }
      Signal();  // the thread may be waiting with no timeout: it recomputes its wait
    }
    epoll_event ev{};
    ev.events = EPOLLIN | EPOLLRDHUP | EPOLLOUT;
    ev.data.u64 = c->id;
    epoll_ctl(ep_, EPOLL_CTL_ADD, fd, &ev);
    c->out_armed = true;
    if (c->sock == IoConn::Sock::kOpen) Flush(c);
    return;
  }
  Fail(c, c->attempts.empty() ? "connect: no address" : c->attempts);
}

void IoLoop::Send(uint32_t id, uint32_t stream, const char* head, size_t head_n, const char* body, size_t body_n) {
  {
    std::shared_ptr<IoConn> keep = Get(id);
    if (!keep) return;
    std::lock_guard<std::mutex> l(keep->mu);
    IoConn* c = keep.get();
    c->res.Reset();
    c->stream = stream;
    c->body.clear();
    c->ends.clear();
    c->times.clear();
    c->error_body.clear();
    if (!c->busy) {
      std::lock_guard<std::mutex> g(mu_);
      busy_++;
    }
    c->busy = true;
    c->used = true;
    if (c->sock == IoConn::Sock::kClosed) {
      // Its connect failed (the error is kept for this request), or the
      // server closed it between the caller's Usable() and now: nothing was sent.
      if (!c->error.empty()) Post(c, IoEventKind::kFailed, 0);
      else Complete(c, c->res.Eof());
    } else if (c->sock == IoConn::Sock::kOpen && c->out.size() == c->out_off) {
      // Written from this thread when the socket takes it whole (the usual
      // case): no hand-over to the I/O thread, no copy of the body.
      iovec iov[2] = {{const_cast<char*>(head), head_n}, {const_cast<char*>(body), body_n}};
      msghdr m{};
      m.msg_iov = iov;
      m.msg_iovlen = 2;
      ssize_t w = sendmsg(c->fd, &m, MSG_NOSIGNAL);
      // EINTR (a signal before anything was sent) as EAGAIN: the I/O thread writes it all.
      if (w < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR) {
        Fail(c, "write " + ErrName(errno));
      } else {
        size_t done = w < 0 ? 0 : static_cast<size_t>(w);
        c->out.clear();
        c->out_off = 0;
        if (done < head_n) c->out.append(head + done, head_n - done);
        size_t bdone = done > head_n ? done - head_n : 0;
        if (bdone < body_n) c->out.append(body + bdone, body_n - bdone);
        if (!c->out.empty()) Arm(c, true);
      }
    } else {
      c->out.append(head, head_n);
      c->out.append(body, body_n);
    }
  }
  WakeIfNeeded();
}

void IoLoop::Close(uint32_t id) {
  std::shared_ptr<IoConn> c;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = conns_.find(id);
    if (it == conns_.end()) return;
    c = std::move(it->second);
    conns_.erase(it);
  }
  std::lock_guard<std::mutex> l(c->mu);
  if (c->busy) {
    std::lock_guard<std::mutex> g(mu_);
    busy_--;
  }
  c->busy = false;
  CloseFd(c.get());
}

void IoLoop::Flush(IoConn* c) {
  while (c->out_off < c->out.size()) {
    ssize_t w = send(c->fd, c->out.data() + c->out_off, c->out.size() - c->out_off, MSG_NOSIGNAL);
    if (w < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN || errno == EWOULDBLOCK) {
        if (!c->out_armed) Arm(c, true);
        return;
      }
      return Fail(c, "write " + ErrName(errno));
    }
    c->out_off += static_cast<size_t>(w);
  }
  std::string().swap(c->out);  // a request can be megabytes (images): give it back
  c->out_off = 0;
  if (c->out_armed) Arm(c, false);
}

// A ready socket's connect and pending write; true when it is to be read.
bool IoLoop::Handle(IoConn* c, uint32_t events) {
  if (c->sock == IoConn::Sock::kConnecting) {
    if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP))) return false;
    int err = 0;
    socklen_t len = sizeof err;
    getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
    if (err != 0) {
      AttemptFailed(c, "connect " + ErrName(err) + " " + c->peer);
      ConnectNext(c);
      return false;
    }
    c->sock = IoConn::Sock::kOpen;
  }
  if (c->sock != IoConn::Sock::kOpen) return false;
  if (events & EPOLLOUT) Flush(c);
  return c->sock == IoConn::Sock::kOpen && (events & (EPOLLIN | EPOLLRDHUP | EPOLLHUP | EPOLLERR));
}

// The ring, set up on this thread (SINGLE_ISSUER binds it here) when the thread
// starts, or at the first wake after batched reads are turned on.
bool IoLoop::RingReady() {
  if (!batch_reads_.load(std::memory_order_relaxed)) return false;
  if (!ring_tried_) {  // only this thread writes it: read here without mu_
    std::string why;
    if (ring_.Init(kMaxEvents, &why)) {
      slots_.reset(new char[kMaxEvents * kReadBuffer]);  // untouched pages cost nothing
      results_.assign(kMaxEvents, 0);
    }
    std::lock_guard<std::mutex> l(mu_);
    ring_tried_ = true;
    ring_why_ = why;
  }
  return ring_.ready();
}

std::string IoLoop::BatchState() {
  if (!batch_reads_.load(std::memory_order_relaxed)) return "off";
  std::lock_guard<std::mutex> l(mu_);
  if (!ring_tried_) return "not yet used";
  return ring_why_.empty() ? "io_uring" : ring_why_;
}

// One wake's reads: one io_uring_enter for them all where there is a ring
// (a single socket too: the call costs what its read() would), else read()s.
void IoLoop::ReadAll(const std::vector<IoConn*>& conns) {
  if (conns.empty()) return;
  if (!RingReady()) {
    for (IoConn* c : conns) Readable(c);
    return;
  }
  constexpr ssize_t kNotRead = -(1LL << 40);
  for (size_t i = 0; i < conns.size(); i++) {
    ring_.Add(conns[i]->fd, slots_.get() + i * kReadBuffer, kReadBuffer, static_cast<uint32_t>(i));
    results_[i] = kNotRead;
  }
  std::string why;
  if (!ring_.Run(&results_, &why)) {
    std::lock_guard<std::mutex> l(mu_);
    ring_why_ = why;  // the ring is closed: from now on, read() (below, and every later wake)
  }
  for (size_t i = 0; i < conns.size(); i++) {
    ssize_t n = results_[i];
    if (n == kNotRead) {
      Readable(conns[i]);
      continue;
    }
    Received(conns[i], n, slots_.get() + i * kReadBuffer, true);
  }
}

void IoLoop::Readable(IoConn* c) {
  ssize_t n;
  do n = read(c->fd, buf_.data(), buf_.size());
  while (n < 0 && errno == EINTR);
  Received(c, n < 0 ? -errno : n, buf_.data(), false);
}

// A read's outcome, from read() or the ring: bytes, 0 at end of stream, or -errno.
void IoLoop::Received(IoConn* c, ssize_t n, const char* data, bool batched) {
  // Nothing there after all (EINTR only from the ring): epoll reports it again.
  if (n == -EAGAIN || n == -EWOULDBLOCK || n == -EINTR) return;
  if (!c->busy) {
    // An idle connection: its close, an error or bytes nobody asked for.
    // Either way it must not carry another request.
    CloseFd(c);
    Post(c, IoEventKind::kDropped, 0);
    return;
  }
  if (n < 0) return Fail(c, "read " + ErrName(static_cast<int>(-n)));
  if (n == 0) return Complete(c, c->res.Eof());
  reads_.fetch_add(1, std::memory_order_relaxed);
  if (batched) batched_reads_.fetch_add(1, std::memory_order_relaxed);
  c->now = MonoMs() + offset_;
  Complete(c, c->res.Read(data, static_cast<size_t>(n), c));
}

// After a Read or Eof of the response in flight: nothing yet, done or failed.
void IoLoop::Complete(IoConn* c, HttpResponse::State st) {
  if (st == HttpResponse::State::kMore) return;
  if (st == HttpResponse::State::kError) {
    CloseFd(c);
    Post(c, IoEventKind::kFailed, c->res.status_seen());
    return;
  }
  // A request still being written when its response ended (a server that
  // answers early) leaves the connection out of step: not reused.
  bool keep = c->res.keep_alive() && c->sock == IoConn::Sock::kOpen && c->out_off == c->out.size();
  if (!keep) CloseFd(c);
  Post(c, IoEventKind::kDone, c->res.DoneCode(keep));
}

#else  // not Linux: no I/O thread; the caller keeps the node:net route.

bool IoLoop::Start(std::string* error) {
  *error = "the I/O thread needs Linux (epoll)";
  return false;
}
void IoLoop::Stop() {}
void IoLoop::Run() {}
void IoLoop::Pause() {}
void IoLoop::Signal() {}
bool IoLoop::Handle(IoConn*, uint32_t) { return false; }
void IoLoop::ReadAll(const std::vector<IoConn*>&) {}
bool IoLoop::RingReady() { return false; }
std::string IoLoop::BatchState() { return "off"; }
void IoLoop::Readable(IoConn*) {}
void IoLoop::Received(IoConn*, ssize_t, const char*, bool) {}
void IoLoop::Flush(IoConn*) {}
void IoLoop::Arm(IoConn*, bool) {}
void IoLoop::CloseFd(IoConn*) {}
void IoLoop::Fail(IoConn*, const std::string&) {}
void IoLoop::Break(const std::string&) {}
void IoLoop::ConnectNext(IoConn*) {}
void IoLoop::AttemptFailed(IoConn*, const std::string&) {}
std::string IoLoop::Broken() { return std::string(); }
void IoLoop::Complete(IoConn*, HttpResponse::State) {}
void IoLoop::Connect(uint32_t, const std::vector<std::string>&, int, int) {}
int IoLoop::NextTimeoutMs() { return -1; }
void IoLoop::ExpireAttempts() {}
void IoLoop::Send(uint32_t, uint32_t, const char*, size_t, const char*, size_t) {}
void IoLoop::Close(uint32_t) {}

#endif

}  // namespace tce
