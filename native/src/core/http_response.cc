#include "core/http_response.h"

#include <cstring>

namespace tce {

namespace {

// RFC 9110 section 5.6.2 token characters (header names).
bool IsTchar(unsigned char c) {
  if (c >= '0' && c <= '9') return true;
  if ((c | 0x20) >= 'a' && (c | 0x20) <= 'z') return true;
  return c != 0 && std::strchr("!#$%&'*+-.^_`|~", c) != nullptr;
}

// Field values and reason phrases: visible bytes, SP, HTAB, obs-text (>= 0x80).
bool IsFieldChar(unsigned char c) { return c == '\t' || (c >= 0x20 && c != 0x7f); }

bool IsOws(char c) { return c == ' ' || c == '\t'; }

std::string Lower(const char* p, size_t n) {
  std::string s(p, n);
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

void Trim(const char** p, size_t* n) {
  while (*n > 0 && IsOws(**p)) {
    ++*p;
    --*n;
  }
  while (*n > 0 && IsOws((*p)[*n - 1])) --*n;
}

/** Calls f(item, len) for each trimmed, non-empty comma-separated item. */
template <typename F>
void ForEachItem(const std::string& v, F f) {
  size_t i = 0;
  while (i <= v.size()) {
    size_t j = v.find(',', i);
    if (j == std::string::npos) j = v.size();
    const char* p = v.data() + i;
    size_t n = j - i;
    Trim(&p, &n);
    if (n > 0) f(p, n);
    i = j + 1;
  }
}

bool EqualsNoCase(const char* p, size_t n, const char* lit) {
  size_t m = std::strlen(lit);
  if (n != m) return false;
  for (size_t i = 0; i < n; i++) {
    char c = p[i];
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
    if (c != lit[i]) return false;
  }
  return true;
}

// Content-Length beyond this is not a body this client will wait for.
constexpr uint64_t kMaxContentLength = 1ULL << 50;
// Chunk sizes: 15 hex digits is already beyond anything sane.
constexpr uint64_t kMaxChunk = 1ULL << 56;

}  // namespace

const char* HttpErrorName(HttpError e) {
  switch (e) {
    case HttpError::kNone: return "none";
    case HttpError::kHeadTooLarge: return "head_too_large";
    case HttpError::kBadStatusLine: return "bad_status_line";
    case HttpError::kBadHeader: return "bad_header";
    case HttpError::kBadContentLength: return "bad_content_length";
    case HttpError::kBadTransferEncoding: return "bad_transfer_encoding";
    case HttpError::kBadChunk: return "bad_chunk";
    case HttpError::kUpgrade: return "upgrade";
    case HttpError::kClosedEarly: return "closed_early";
  }
  return "unknown";
}

void HttpResponse::Reset() {
  state_ = State::kMore;
  phase_ = Phase::kStatus;
  status_ = 0;
  http10_ = false;
  keep_alive_ = true;
  keep_alive_hint_ms_ = -1;
  remaining_ = 0;
  head_bytes_ = 0;
  extra_ = 0;
  bytes_seen_ = 0;
  line_.clear();
  headers_.clear();
  error_ = HttpError::kNone;
  error_detail_.clear();
}

HttpResponse::State HttpResponse::Fail(HttpError e, std::string detail) {
  state_ = State::kError;
  error_ = e;
  error_detail_ = std::move(detail);
  keep_alive_ = false;
  return state_;
}

void HttpResponse::Finish() {
  phase_ = Phase::kDone;
  state_ = State::kDone;
}

size_t HttpResponse::TakeLine(const char* p, size_t n, size_t limit, HttpError over, bool* complete) {
  const char* nl = static_cast<const char*>(std::memchr(p, '\n', n));
  size_t take = nl ? static_cast<size_t>(nl - p) + 1 : n;
  *complete = false;
  head_bytes_ += take;
  if (head_bytes_ > limit) {
    Fail(over, over == HttpError::kHeadTooLarge ? "response head over " + std::to_string(limit) + " bytes" : "chunk line over " + std::to_string(limit) + " bytes");
    return take;
  }
  if (!nl) {
    line_.append(p, n);
    return take;
  }
  line_.append(p, take - 1);
  // RFC 9112 section 2.2: a lone LF may be taken as a line end; drop the CR of CRLF.
  if (!line_.empty() && line_.back() == '\r') line_.pop_back();
  *complete = true;
  return take;
}

bool HttpResponse::OnStatusLine(const std::string& l) {
  // HTTP/1.x SP 3DIGIT [SP reason]
  if (l.size() < 12 || std::memcmp(l.data(), "HTTP/1.", 7) != 0 || (l[7] != '0' && l[7] != '1') || l[8] != ' ') {
    Fail(HttpError::kBadStatusLine, "not an HTTP/1.x status line");
    return false;
  }
  int s = 0;
  for (int i = 9; i < 12; i++) {
    if (l[i] < '0' || l[i] > '9') {
      Fail(HttpError::kBadStatusLine, "status code is not three digits");
      return false;
    }
    s = s * 10 + (l[i] - '0');
  }
  if (s < 100 || (l.size() > 12 && l[12] != ' ')) {
    Fail(HttpError::kBadStatusLine, "bad status code");
    return false;
  }
  for (size_t i = 13; i < l.size(); i++)
    if (!IsFieldChar(static_cast<unsigned char>(l[i]))) {
      Fail(HttpError::kBadStatusLine, "control character in the reason phrase");
      return false;
    }
  status_ = s;
  http10_ = l[7] == '0';
  phase_ = Phase::kHeaders;
  return true;
}

bool HttpResponse::OnHeaderLine(const std::string& l) {
  if (IsOws(l[0])) return Fail(HttpError::kBadHeader, "obsolete line folding"), false;
  size_t colon = l.find(':');
  if (colon == std::string::npos || colon == 0) return Fail(HttpError::kBadHeader, "header line without a name"), false;
  for (size_t i = 0; i < colon; i++)
    if (!IsTchar(static_cast<unsigned char>(l[i]))) return Fail(HttpError::kBadHeader, "bad character in a header name"), false;
  const char* v = l.data() + colon + 1;
  size_t vn = l.size() - colon - 1;
  Trim(&v, &vn);
  for (size_t i = 0; i < vn; i++)
    if (!IsFieldChar(static_cast<unsigned char>(v[i]))) return Fail(HttpError::kBadHeader, "control character in a header value"), false;
  if (headers_.size() >= limits_.max_headers) return Fail(HttpError::kHeadTooLarge, "over " + std::to_string(limits_.max_headers) + " headers"), false;
  headers_.emplace_back(Lower(l.data(), colon), std::string(v, vn));
  return true;
}

bool HttpResponse::OnHeadEnd() {
  if (status_ >= 100 && status_ < 200) {
    // Interim responses (100 Continue, 103 Early Hints) precede the real one.
    if (status_ == 101) return Fail(HttpError::kUpgrade, "the server switched protocols (101)"), false;
    phase_ = Phase::kStatus;
    head_bytes_ = 0;
    headers_.clear();
    return true;
  }
  bool has_cl = false, has_te = false, chunked = false, close = false, ka = false;
  uint64_t cl = 0;
  for (const auto& h : headers_) {
    const std::string& name = h.first;
    if (name == "content-length") {
      bool ok = true;
      ForEachItem(h.second, [&](const char* p, size_t n) {
        uint64_t v = 0;
        for (size_t i = 0; i < n && ok; i++) {
          if (p[i] < '0' || p[i] > '9') ok = false;
          else v = v * 10 + static_cast<uint64_t>(p[i] - '0');
          if (v > kMaxContentLength) ok = false;
        }
        if (ok && has_cl && v != cl) ok = false;
        has_cl = true;
        cl = v;
      });
      if (!ok || h.second.find_first_not_of(" \t,") == std::string::npos)
        return Fail(HttpError::kBadContentLength, "invalid or conflicting Content-Length"), false;
    } else if (name == "transfer-encoding") {
      bool bad = false;
      ForEachItem(h.second, [&](const char* p, size_t n) {
        if (chunked) bad = true;  // chunked must be the last coding, and only once
        if (EqualsNoCase(p, n, "chunked")) chunked = true;
      });
      if (bad) return Fail(HttpError::kBadTransferEncoding, "chunked is not the final transfer coding"), false;
      has_te = true;
    } else if (name == "connection") {
      ForEachItem(h.second, [&](const char* p, size_t n) {
        if (EqualsNoCase(p, n, "close")) close = true;
        if (EqualsNoCase(p, n, "keep-alive")) ka = true;
      });
    } else if (name == "keep-alive") {
      ForEachItem(h.second, [&](const char* p, size_t n) {
        if (n > 8 && EqualsNoCase(p, 8, "timeout=")) {
          double s = 0;
          size_t i = 8;
          for (; i < n && i < 16 && p[i] >= '0' && p[i] <= '9'; i++) s = s * 10 + (p[i] - '0');
          if (i == n) keep_alive_hint_ms_ = s * 1000;
        }
      });
    }
  }
  keep_alive_ = http10_ ? ka && !close : !close;
  head_bytes_ = 0;
  if (status_ == 204 || status_ == 304) {
    Finish();
  } else if (has_te) {
    // RFC 9112 section 6.3: Transfer-Encoding overrides Content-Length (and
    // such a message must not be trusted to leave the connection in sync);
    // a final coding other than chunked is delimited by the close.
    if (has_cl || !chunked) keep_alive_ = false;
    phase_ = chunked ? Phase::kChunkSize : Phase::kUntilClose;
  } else if (has_cl) {
    remaining_ = cl;
    if (cl == 0) Finish();
    else phase_ = Phase::kFixed;
  } else {
    keep_alive_ = false;
    phase_ = Phase::kUntilClose;
  }
  return true;
}

bool HttpResponse::OnChunkSizeLine(const std::string& l) {
  uint64_t v = 0;
  size_t i = 0;
  for (; i < l.size(); i++) {
    char c = l[i];
    int d = c >= '0' && c <= '9' ? c - '0' : (c | 0x20) >= 'a' && (c | 0x20) <= 'f' ? (c | 0x20) - 'a' + 10 : -1;
    if (d < 0) break;
    v = v * 16 + static_cast<uint64_t>(d);
    if (v > kMaxChunk) return Fail(HttpError::kBadChunk, "chunk size too large"), false;
  }
  if (i == 0) return Fail(HttpError::kBadChunk, "chunk size is not hexadecimal"), false;
  while (i < l.size() && IsOws(l[i])) i++;
  if (i < l.size() && l[i] != ';') return Fail(HttpError::kBadChunk, "junk after the chunk size"), false;
  for (; i < l.size(); i++)
    if (!IsFieldChar(static_cast<unsigned char>(l[i]))) return Fail(HttpError::kBadChunk, "control character in a chunk extension"), false;
  head_bytes_ = 0;
  if (v == 0) {
    phase_ = Phase::kTrailers;
  } else {
    remaining_ = v;
    phase_ = Phase::kChunkData;
  }
  return true;
}

HttpResponse::State HttpResponse::Read(const char* p, size_t n, HttpBodySink* sink) {
  if (state_ == State::kDone) extra_ += n;
  if (state_ != State::kMore) return state_;
  bytes_seen_ += n;
  size_t i = 0;
  while (i < n && state_ == State::kMore) {
    switch (phase_) {
      case Phase::kStatus:
      case Phase::kHeaders:
      case Phase::kTrailers:
      case Phase::kChunkSize:
      case Phase::kChunkEnd: {
        bool line_phase_chunk = phase_ == Phase::kChunkSize || phase_ == Phase::kChunkEnd;
        size_t limit = phase_ == Phase::kChunkEnd ? 2 : line_phase_chunk ? limits_.max_chunk_line : limits_.max_head;
        bool complete = false;
        i += TakeLine(p + i, n - i, limit, line_phase_chunk ? HttpError::kBadChunk : HttpError::kHeadTooLarge, &complete);
        if (state_ != State::kMore || !complete) break;
        std::string l;
        l.swap(line_);
        switch (phase_) {
          case Phase::kStatus:
            // Tolerated before a status line (RFC 9112 section 2.2).
            if (!l.empty()) OnStatusLine(l);
            break;
          case Phase::kHeaders:
            if (l.empty()) OnHeadEnd();
            else OnHeaderLine(l);
            break;
          case Phase::kTrailers:
            if (l.empty()) Finish();  // trailer fields are read past, not kept
            break;
          case Phase::kChunkSize:
            OnChunkSizeLine(l);
            break;
          default:  // kChunkEnd
            if (!l.empty()) Fail(HttpError::kBadChunk, "chunk data longer than its size");
            else phase_ = Phase::kChunkSize, head_bytes_ = 0;
            break;
        }
        l.swap(line_);  // keep the buffer's capacity
        line_.clear();
        break;
      }
      case Phase::kFixed:
      case Phase::kChunkData: {
        uint64_t avail = n - i;
        size_t take = static_cast<size_t>(remaining_ < avail ? remaining_ : avail);
        sink->Body(p + i, take);
        i += take;
        remaining_ -= take;
        if (remaining_ == 0) {
          if (phase_ == Phase::kFixed) Finish();
          else phase_ = Phase::kChunkEnd, head_bytes_ = 0;
        }
        break;
      }
      case Phase::kUntilClose:
        sink->Body(p + i, n - i);
        i = n;
        break;
      case Phase::kDone:
        Finish();
        break;
    }
  }
  // A head that ends the message with its last byte (204, Content-Length: 0).
  if (state_ == State::kMore && phase_ == Phase::kDone) Finish();
  if (state_ == State::kDone) {
    extra_ = n - i;
    bytes_seen_ -= extra_;
  }
  return state_;
}

HttpResponse::State HttpResponse::Eof() {
  if (state_ != State::kMore) return state_;
  if (phase_ == Phase::kUntilClose) {
    Finish();
    return state_;
  }
  return Fail(HttpError::kClosedEarly, bytes_seen_ == 0 ? "the server closed the connection before responding" : "the server closed the connection mid-response");
}

}  // namespace tce
