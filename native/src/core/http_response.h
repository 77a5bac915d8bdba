// Incremental HTTP/1.1 response framing for the driver's raw-socket route:
// status line, headers, then the body by Content-Length, chunked transfer
// coding (extensions and trailers skipped) or the connection's close
// (RFC 9112 section 6.3). Bytes arrive split anywhere; decoded body bytes go
// to a sink as spans of the caller's buffer (no copy). Untrusted input: every
// limit is checked, and a malformed response is a typed error, never a crash.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace tce {

/** A non-200 response's body is kept for the error message up to this size
 * (the rest is framed and dropped). */
constexpr size_t kMaxErrorBody = 1 << 20;

/** Appends to a non-200's kept body, up to kMaxErrorBody. */
inline void AppendErrorBody(std::string& body, const char* p, size_t n) {
  if (body.size() < kMaxErrorBody) body.append(p, n < kMaxErrorBody - body.size() ? n : kMaxErrorBody - body.size());
}

struct HttpLimits {
  /** Status line + headers (and, separately, trailers), as Node's default --max-http-header-size. */
  size_t max_head = 16 * 1024;
  size_t max_headers = 128;
  /** A chunk-size line with its extensions. */
  size_t max_chunk_line = 4096;
};

enum class HttpError : uint8_t {
  kNone,
  kHeadTooLarge,
  kBadStatusLine,
  kBadHeader,
  kBadContentLength,
  kBadTransferEncoding,
  kBadChunk,
  kUpgrade,        // a 101: not a response this client can use
  kClosedEarly,    // the peer closed before the message was complete
};

const char* HttpErrorName(HttpError e);

class HttpBodySink {
 public:
  virtual ~HttpBodySink() = default;
  virtual void Body(const char* p, size_t n) = 0;
};

class HttpResponse {
 public:
  enum class State : uint8_t { kMore, kDone, kError };

  explicit HttpResponse(HttpLimits limits = HttpLimits()) : limits_(limits) {}
  /** Ready for the next response on the same connection. */
  void Reset();
  /** Parses n more bytes. After kDone, `extra()` bytes of this call were past the message. */
  State Read(const char* p, size_t n, HttpBodySink* sink);
  /** The peer closed: ends a close-delimited body, else an error. */
  State Eof();

  State state() const { return state_; }
  bool head_done() const { return phase_ > Phase::kHeaders; }
  int status() const { return status_; }
  /** The status once the head is in, else 0. */
  int status_seen() const { return head_done() ? status_ : 0; }
  /** After kDone: whether the connection may carry the next request. */
  bool keep_alive() const { return keep_alive_ && extra_ == 0; }
  /** `Keep-Alive: timeout=N` in ms, or -1 when the server sent none. */
  double keep_alive_hint_ms() const { return keep_alive_hint_ms_; }
  /** A finished response as one number for JS: status * 4, + 2 when the
   * server sent a Keep-Alive timeout hint, + 1 when `keep` (the connection
   * may carry another request). */
  int32_t DoneCode(bool keep) const { return status_ * 4 + (keep_alive_hint_ms_ >= 0 ? 2 : 0) + (keep ? 1 : 0); }
  size_t extra() const { return extra_; }
  /** Bytes of this response (and any 1xx before it) received so far. */
  uint64_t bytes_seen() const { return bytes_seen_; }
  HttpError error() const { return error_; }
  const std::string& error_detail() const { return error_detail_; }
  /** Names lowercased, in arrival order. */
  const std::vector<std::pair<std::string, std::string>>& headers() const { return headers_; }

 private:
  enum class Phase : uint8_t { kStatus, kHeaders, kFixed, kChunkSize, kChunkData, kChunkEnd, kTrailers, kUntilClose, kDone };

  State Fail(HttpError e, std::string detail);
  /** Accumulates one line of a head-like section; returns bytes used, sets *complete. */
  size_t TakeLine(const char* p, size_t n, size_t limit, HttpError over, bool* complete);
  bool OnStatusLine(const std::string& l);
  bool OnHeaderLine(const std::string& l);
  bool OnHeadEnd();
  bool OnChunkSizeLine(const std::string& l);
  void Finish();

  HttpLimits limits_;
  State state_ = State::kMore;
  Phase phase_ = Phase::kStatus;
  int status_ = 0;
  bool http10_ = false;
  bool keep_alive_ = true;
  double keep_alive_hint_ms_ = -1;
  uint64_t remaining_ = 0;  // kFixed / kChunkData
  size_t head_bytes_ = 0;   // of the current head or trailer section
  size_t extra_ = 0;
  uint64_t bytes_seen_ = 0;
  std::string line_;
  std::vector<std::pair<std::string, std::string>> headers_;
  HttpError error_ = HttpError::kNone;
  std::string error_detail_;
};

}  // namespace tce
