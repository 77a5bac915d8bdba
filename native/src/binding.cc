// Thin node-addon-api binding: converts arguments and forwards to the plain
// C++ core in native/src/core (which knows nothing about N-API). The
// boundary is crossed per batch: one feed() carries body chunks of many
// streams, one extractTexts() many whole texts. No mutable statics, so the
// addon is safe in worker threads (each engine lives in its External).
#include <napi.h>

#include <algorithm>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/answer_lines.h"
#include "core/http_response.h"
#include "core/lz4_block.h"
#include "core/stream.h"
#include "core/tool_calls.h"
#include "core/utf8.h"
#include "io/io_loop.h"

#ifndef TCE_NATIVE_VERSION
#define TCE_NATIVE_VERSION "0.2.0"
#endif

namespace {

// Distinguishes our engine handles from any other External (duckdb-node-neo style).
const napi_type_tag kEngineTag = {0x7ce5e7a1d2b04f31ULL, 0x9a3c55e0b1f24d77ULL};

struct HttpConn;

struct Engine {
  std::unordered_map<uint32_t, std::unique_ptr<tce::Stream>> streams;
  uint32_t next = 1;
  // Raw-socket route: one response framer per connection (src/run/raw-http.ts).
  std::unordered_map<uint32_t, std::unique_ptr<HttpConn>> conns;
  uint32_t next_conn = 1;
};

// The framer of one connection and where its decoded body goes: a 200's
// into the engine stream bound by httpBegin, any other status's into
// error_body for the caller's message.
struct HttpConn : tce::HttpBodySink {
  tce::HttpResponse res;
  uint32_t stream = 0;
  tce::Stream* target = nullptr;  // looked up per read: JS may close the stream
  double time = 0;
  std::string error_body;
  void Body(const char* p, size_t n) override {
    if (res.status() == 200) {
      if (target) target->Feed(p, n, time);
    } else {
      tce::AppendErrorBody(error_body, p, n);
    }
  }
};

Engine* EngineArg(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 1 || !info[0].IsExternal()) throw Napi::TypeError::New(env, "expected an engine handle from createEngine()");
  auto ext = info[0].As<Napi::External<Engine>>();
  if (!ext.CheckTypeTag(&kEngineTag)) throw Napi::TypeError::New(env, "the handle is not a tce stream engine");
  return ext.Data();
}

uint32_t StreamId(const Napi::CallbackInfo& info, size_t i) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a stream handle (number)");
  return info[i].As<Napi::Number>().Uint32Value();
}

std::vector<std::string> Strings(Napi::Env env, Napi::Value v, const char* what) {
  if (!v.IsArray()) throw Napi::TypeError::New(env, std::string(what) + " must be an array of strings");
  auto a = v.As<Napi::Array>();
  std::vector<std::string> out;
  out.reserve(a.Length());
  for (uint32_t i = 0; i < a.Length(); i++) {
    Napi::Value s = a.Get(i);
    if (!s.IsString()) throw Napi::TypeError::New(env, std::string(what) + "[" + std::to_string(i) + "] is not a string");
    out.push_back(s.As<Napi::String>().Utf8Value());
  }
  return out;
}

// knownTools, and offeredTools when given (undefined or null: not known).
tce::ToolNames Names(Napi::Env env, const Napi::CallbackInfo& info, size_t known_at) {
  tce::ToolNames names;
  names.known = Strings(env, info[known_at], "knownTools");
  if (info.Length() > known_at + 1 && !info[known_at + 1].IsUndefined() && !info[known_at + 1].IsNull()) {
    names.has_offered = true;
    names.offered = Strings(env, info[known_at + 1], "offeredTools");
  }
  return names;
}

Napi::Value Version(const Napi::CallbackInfo& info) {
  return Napi::String::New(info.Env(), TCE_NATIVE_VERSION);
}

Napi::Value CreateEngine(const Napi::CallbackInfo& info) {
  auto ext = Napi::External<Engine>::New(info.Env(), new Engine(), [](Napi::Env, Engine* e) { delete e; });
  ext.TypeTag(&kEngineTag);
  return ext;
}

// open(engine, mode: 0 = sse | 1 = text, knownTools: string[], offeredTools?: string[] | null) -> handle
Napi::Value Open(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  Napi::Env env = info.Env();
  if (info.Length() < 3 || !info[1].IsNumber()) throw Napi::TypeError::New(env, "open(engine, mode, knownTools): mode must be 0 (sse) or 1 (text)");
  auto mode = info[1].As<Napi::Number>().Int32Value() == 1 ? tce::Stream::Mode::kText : tce::Stream::Mode::kSse;
  tce::ToolNames names = Names(env, info, 2);
  uint32_t id = e->next++;
  if (e->next == 0) e->next = 1;
  e->streams[id] = std::make_unique<tce::Stream>(mode, std::move(names));
  return Napi::Number::New(env, id);
}

tce::Stream& Find(const Napi::CallbackInfo& info, Engine* e, uint32_t id) {
  auto it = e->streams.find(id);
  if (it == e->streams.end()) throw Napi::TypeError::New(info.Env(), "unknown or closed stream handle " + std::to_string(id));
  return *it->second;
}

// feed(engine, handles: Uint32Array, data: Uint8Array, ends: Uint32Array, timesMs: Float64Array, count?: number)
// Chunk i is data[ends[i-1] .. ends[i]) for stream handles[i]: the whole batch
// is four typed arrays read in place, so the cost per call does not grow with
// the number of chunks. With `count`, only the first count entries are used
// (the caller reuses arrays larger than the batch); without it the three
// arrays must be the batch's length. Every handle is checked before any is fed.
template <typename T>
T TypedArg(const Napi::CallbackInfo& info, size_t i, napi_typedarray_type type, const char* what) {
  if (info.Length() <= i || !info[i].IsTypedArray() || info[i].As<Napi::TypedArray>().TypedArrayType() != type)
    throw Napi::TypeError::New(info.Env(), std::string("feed(engine, handles: Uint32Array, data: Uint8Array, ends: Uint32Array, timesMs: Float64Array): bad ") + what);
  return info[i].As<T>();
}

Napi::Value Feed(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  Napi::Env env = info.Env();
  auto h = TypedArg<Napi::Uint32Array>(info, 1, napi_uint32_array, "handles");
  auto data = TypedArg<Napi::Uint8Array>(info, 2, napi_uint8_array, "data");
  auto ends = TypedArg<Napi::Uint32Array>(info, 3, napi_uint32_array, "ends");
  auto t = TypedArg<Napi::Float64Array>(info, 4, napi_float64_array, "timesMs");
  size_t n = h.ElementLength();
  if (info.Length() > 5 && !info[5].IsUndefined()) {
    if (!info[5].IsNumber()) throw Napi::TypeError::New(env, "feed: count must be a number");
    double c = info[5].As<Napi::Number>().DoubleValue();
    if (!(c >= 0 && c <= static_cast<double>(n) && c <= static_cast<double>(t.ElementLength()) && c <= static_cast<double>(ends.ElementLength())) || c != static_cast<double>(static_cast<size_t>(c)))
      throw Napi::TypeError::New(env, "feed: count must be a whole number no larger than handles, ends and timesMs");
    n = static_cast<size_t>(c);
  } else if (t.ElementLength() != n || ends.ElementLength() != n) {
    throw Napi::TypeError::New(env, "feed: handles, ends and timesMs differ in length");
  }
  std::vector<tce::Stream*> streams(n);
  size_t prev = 0;
  for (size_t i = 0; i < n; i++) {
    streams[i] = &Find(info, e, h[i]);
    if (ends[i] < prev || ends[i] > data.ElementLength()) throw Napi::TypeError::New(env, "feed: ends must be non-decreasing and within data");
    prev = ends[i];
  }
  const char* base = reinterpret_cast<const char*>(data.Data());
  prev = 0;
  for (size_t i = 0; i < n; i++) {
    streams[i]->Feed(base + prev, ends[i] - prev, t[i]);
    prev = ends[i];
  }
  return env.Undefined();
}

// Results cross as one JS string plus one Float64Array: the strings are
// concatenated and their lengths (UTF-16 units, so JS can slice) go into the
// number stream with the other fields, in the order src/extract/packed.ts
// reads them. Two JS values per call instead of dozens.
size_t Utf16Length(const std::string& s, bool* ascii) {
  size_t n = 0;
  unsigned char any = 0;
  for (unsigned char c : s) {
    n += (c & 0xC0) != 0x80 ? (c >= 0xF0 ? 2 : 1) : 0;
    any |= c;
  }
  if (any & 0x80) *ascii = false;
  return n;
}

struct Packer {
  std::string text;
  bool ascii = true;  // then V8 copies the bytes as they are, no UTF-8 decoding
  std::vector<double> nums;
  void Str(const std::string& s) {
    text += s;
    nums.push_back(static_cast<double>(Utf16Length(s, &ascii)));
  }
  void Num(double v) { nums.push_back(v); }
  /** Text that came back unchanged (no tags at all) is not sent twice:
   * length -1 tells JS to reuse the string it already has. */
  void StrOrSame(const std::string& s, const std::string& same) {
    if (s.size() == same.size() && s == same) Num(-1);
    else Str(s);
  }
  void Calls(const std::vector<tce::ToolCall>& calls) {
    Num(static_cast<double>(calls.size()));
    for (const tce::ToolCall& c : calls) {
      Num((c.has_name ? 1 : 0) | (c.has_args ? 2 : 0) | (c.from_server ? 4 : 0));
      Num(static_cast<double>(c.status));
      if (c.has_name) Str(c.name);
      if (c.has_args) Str(c.args_json);
      Str(c.raw);
      std::string repairs;
      for (tce::Repair r : c.repairs.items) {
        if (!repairs.empty()) repairs.push_back(',');
        repairs += tce::RepairName(r);
      }
      Str(repairs);
    }
  }
  /** The final-answer line scan of `content`: -1 when it was not scanned
   * here (not plain ASCII; JS scans it), else the count and per line its
   * label, value and offset. */
  void AnswerLines(const std::string& content) {
    std::vector<tce::AnswerLine> lines;
    if (!tce::ScanAnswerLines(content, &lines)) {
      Num(-1);
      return;
    }
    Num(static_cast<double>(lines.size()));
    for (const tce::AnswerLine& l : lines) {
      Str(l.label);
      Str(l.value);
      Num(static_cast<double>(l.at));
    }
  }
  /** `reuse`, when given and large enough, receives the numbers instead of a
   * new Float64Array: a fresh ArrayBuffer per call costs more than the rest
   * of the packing (malloc, and a free on V8's sweeper thread). */
  Napi::Value Done(Napi::Env env, Napi::Value reuse = Napi::Value()) {
    auto out = Napi::Array::New(env, 2);
    napi_value str;
    napi_status st = ascii ? napi_create_string_latin1(env, text.data(), text.size(), &str)
                           : napi_create_string_utf8(env, text.data(), text.size(), &str);
    NAPI_THROW_IF_FAILED(env, st, Napi::Value());
    out.Set(0u, Napi::Value(env, str));
    Napi::Float64Array a;
    if (!reuse.IsEmpty() && reuse.IsTypedArray() && reuse.As<Napi::TypedArray>().TypedArrayType() == napi_float64_array &&
        reuse.As<Napi::Float64Array>().ElementLength() >= nums.size())
      a = reuse.As<Napi::Float64Array>();
    else
      a = Napi::Float64Array::New(env, nums.size());
    std::copy(nums.begin(), nums.end(), a.Data());
    out.Set(1u, a);
    return out;
  }
};

// finish(engine, handle, nums?: Float64Array) -> packed (see Packer; order in
// src/extract/packed.ts). The numbers go into `nums` when they fit (then the
// packed result holds `nums` itself), else into a new array.
Napi::Value Finish(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  uint32_t id = StreamId(info, 1);
  tce::Stream& s = Find(info, e, id);
  tce::StreamResult r;
  s.Finish(&r);
  e->streams.erase(id);
  Packer p;
  p.Str(r.text);
  p.StrOrSame(r.extraction.content, r.text);
  p.Str(r.extraction.reasoning);
  p.Calls(r.extraction.calls);
  p.Num(r.has_finish);
  if (r.has_finish) p.Str(r.finish_reason);
  p.Num(r.has_usage);
  if (r.has_usage) {
    p.Num(r.prompt_tokens);
    p.Num(r.completion_tokens);
  }
  p.Num((r.has_error ? 1 : 0) | (r.has_error_type ? 2 : 0) | (r.has_error_code ? 4 : 0));
  if (r.has_error) p.Str(r.error_message);
  if (r.has_error_type) p.Str(r.error_type);
  if (r.has_error_code) p.Num(r.error_code);
  p.Num(r.saw_done);
  p.Num(static_cast<double>(r.chunk_times.size()));
  for (size_t i = 0; i < r.chunk_times.size(); i++) {
    p.Num(r.chunk_times[i]);
    p.Num(r.chunk_tokens[i]);
  }
  p.AnswerLines(r.extraction.content);
  return p.Done(info.Env(), info.Length() > 2 ? info[2] : Napi::Value());
}

Napi::Value Close(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  uint32_t id = StreamId(info, 1);
  Find(info, e, id);
  e->streams.erase(id);
  return info.Env().Undefined();
}

// extractTexts(texts: string[], knownTools: string[], offeredTools?: string[] | null) -> packed: per text
// content, reasoning, calls, final-answer lines.
Napi::Value ExtractTexts(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  if (info.Length() < 2 || !info[0].IsArray()) throw Napi::TypeError::New(env, "extractTexts(texts: string[], knownTools: string[], offeredTools?: string[])");
  tce::ToolNames names = Names(env, info, 1);
  auto texts = info[0].As<Napi::Array>();
  uint32_t n = texts.Length();
  Packer p;
  std::string buf;
  for (uint32_t i = 0; i < n; i++) {
    Napi::Value v = texts.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(env, "extractTexts: texts[" + std::to_string(i) + "] is not a string");
    // One pass over the string: the UTF-16 length is O(1) and bounds the
    // UTF-8 size by 3x. V8 writes lone surrogates as U+FFFD, so buf is valid UTF-8.
    size_t units = 0, len = 0;
    napi_get_value_string_utf16(env, v, nullptr, 0, &units);
    buf.resize(units * 3 + 1);
    napi_get_value_string_utf8(env, v, &buf[0], buf.size(), &len);
    buf.resize(len);
    tce::TextExtraction ex;
    tce::ExtractFromText(buf, names, &ex);
    p.StrOrSame(ex.content, buf);
    p.Str(ex.reasoning);
    p.Calls(ex.calls);
    p.AnswerLines(ex.content);
  }
  return p.Done(env);
}

// ---- HTTP/1.1 response framing for the raw-socket route ----

HttpConn& Conn(const Napi::CallbackInfo& info, Engine* e) {
  uint32_t id = StreamId(info, 1);
  auto it = e->conns.find(id);
  if (it == e->conns.end()) throw Napi::TypeError::New(info.Env(), "unknown or closed connection handle " + std::to_string(id));
  return *it->second;
}

Napi::Value Latin1(Napi::Env env, const std::string& s) {
  napi_value v;
  NAPI_THROW_IF_FAILED(env, napi_create_string_latin1(env, s.data(), s.size(), &v), Napi::Value());
  return Napi::Value(env, v);
}

// httpOpen(engine) -> connection handle
Napi::Value HttpOpen(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  uint32_t id = e->next_conn++;
  if (e->next_conn == 0) e->next_conn = 1;
  e->conns[id] = std::make_unique<HttpConn>();
  return Napi::Number::New(info.Env(), id);
}

// httpBegin(engine, conn, stream) : the next response on conn; a 200 body feeds stream (0: none).
Napi::Value HttpBegin(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  HttpConn& c = Conn(info, e);
  c.res.Reset();
  c.stream = StreamId(info, 2);
  c.error_body.clear();
  return info.Env().Undefined();
}

// The outcome of a read as one number: 0 more to come, -1 malformed or cut
// short (httpResult says why), else done: status * 4, + 2 when the server
// sent a Keep-Alive timeout hint (httpResult has it), + 1 when the
// connection may carry another request.
Napi::Value Outcome(Napi::Env env, const HttpConn& c, tce::HttpResponse::State st) {
  if (st == tce::HttpResponse::State::kMore) return Napi::Number::New(env, 0);
  if (st == tce::HttpResponse::State::kError) return Napi::Number::New(env, -1);
  return Napi::Number::New(env, c.res.DoneCode(c.res.keep_alive()));
}

// httpRead(engine, conn, buf: Uint8Array, n, timeMs) -> outcome. Reads buf[0, n) in place.
Napi::Value HttpRead(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  Napi::Env env = info.Env();
  HttpConn& c = Conn(info, e);
  if (info.Length() < 5 || !info[2].IsTypedArray() || info[2].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array || !info[3].IsNumber() || !info[4].IsNumber())
    throw Napi::TypeError::New(env, "httpRead(engine, conn, buf: Uint8Array, n: number, timeMs: number)");
  auto buf = info[2].As<Napi::Uint8Array>();
  double n = info[3].As<Napi::Number>().DoubleValue();
  if (!(n >= 0 && n <= static_cast<double>(buf.ElementLength()))) throw Napi::RangeError::New(env, "httpRead: n outside the buffer");
  c.time = info[4].As<Napi::Number>().DoubleValue();
  auto it = c.stream ? e->streams.find(c.stream) : e->streams.end();
  c.target = it == e->streams.end() ? nullptr : it->second.get();
  auto st = c.res.Read(reinterpret_cast<const char*>(buf.Data()), static_cast<size_t>(n), &c);
  c.target = nullptr;
  return Outcome(env, c, st);
}

// httpEof(engine, conn) -> outcome: the server closed the connection.
Napi::Value HttpEof(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  HttpConn& c = Conn(info, e);
  return Outcome(info.Env(), c, c.res.Eof());
}

// [status (0 before the head), flat header names and values, body text
// (non-200), error ('' or kind: detail), keep-alive hint ms (-1 none), bytes
// of the response seen]: httpResult's and ioResult's answer.
Napi::Value ResultArray(Napi::Env env, const tce::HttpResponse& r, const std::string& error_body, const std::string& socket_error) {
  auto headers = Napi::Array::New(env, r.headers().size() * 2);
  uint32_t k = 0;
  for (const auto& h : r.headers()) {
    headers.Set(k++, Latin1(env, h.first));
    headers.Set(k++, Latin1(env, h.second));  // as undici decodes header bytes
  }
  auto out = Napi::Array::New(env, 6);
  out.Set(0u, Napi::Number::New(env, r.status_seen()));
  out.Set(1u, headers);
  std::string body;
  tce::AppendSanitized(body, error_body.data(), error_body.size());  // as Buffer#toString('utf8')
  out.Set(2u, Napi::String::New(env, body));
  std::string err = !socket_error.empty() ? "socket: " + socket_error
                  : r.error() == tce::HttpError::kNone ? std::string()
                  : std::string(tce::HttpErrorName(r.error())) + ": " + r.error_detail();
  out.Set(3u, Napi::String::New(env, err));
  out.Set(4u, Napi::Number::New(env, r.keep_alive_hint_ms()));
  out.Set(5u, Napi::Number::New(env, static_cast<double>(r.bytes_seen())));
  return out;
}

// httpResult(engine, conn) -> ResultArray
Napi::Value HttpResult(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  HttpConn& c = Conn(info, e);
  return ResultArray(info.Env(), c.res, c.error_body, std::string());
}

Napi::Value HttpClose(const Napi::CallbackInfo& info) {
  Engine* e = EngineArg(info);
  Conn(info, e);
  e->conns.erase(StreamId(info, 1));
  return info.Env().Undefined();
}

// ---- The raw route's I/O thread (native/src/io/io_loop.h) ----
//
// Design choice: the sockets of plain http: endpoints can be read by one
// thread of the addon with its own epoll loop, not by libuv handles on the
// main thread, to drop node's per-read path (libuv callback, StreamBase, the
// JS onread callback). The kernel's cost per read dominates either way;
// what the thread adds is the poll window (io_loop.h), one wake per burst
// of events instead of one per event, which puts it below node:net in CPU
// per paced turn: tce run's default on Linux (TCE_RAW_SOCKETS=net opts out;
// docs/performance.md). The thread frames each response and keeps a 200's
// body chunks with their read times; completions reach JavaScript in
// batches (one threadsafe-function call drains every completion queued
// since the last), and ioTake feeds a whole body into its engine stream in
// one call, so the token timings are the reads' own times (a read is at
// most one window late).

const napi_type_tag kIoLoopTag = {0x1f0e7c3a9b2d4e55ULL, 0x86a1c0d2e3f4a5b6ULL};

struct IoHolder {
  napi_env env = nullptr;
  napi_threadsafe_function tsfn = nullptr;
  std::unique_ptr<tce::IoLoop> loop;
  bool hooked = false;  // the env cleanup hook is registered
  bool refd = false;
  bool external_gone = false;
  std::vector<tce::IoEvent> events;
};

// Keeps the process alive only while a request is in flight or its
// completion is not yet delivered (as a socket with a pending read does on
// the node:net route). A response can complete on the thread before the
// ioSend that sent it returns: its queued completion must still hold the
// process, or a loop with nothing else to do would exit before delivering it.
void IoRef(IoHolder* h) {
  if (!h->tsfn || !h->loop->running()) return;
  bool want = !h->loop->Quiet();
  if (want == h->refd) return;
  if (want) napi_ref_threadsafe_function(h->env, h->tsfn);
  else napi_unref_threadsafe_function(h->env, h->tsfn);
  h->refd = want;
}

// On the main thread: every queued completion, to the JS callback as one
// Float64Array of [conn, kind, code] triples.
void IoCallJs(napi_env env, napi_value js_cb, void* context, void*) {
  if (env == nullptr || js_cb == nullptr) return;
  auto* h = static_cast<IoHolder*>(context);
  if (!h->loop) return;
  h->loop->TakeEvents(&h->events);
  if (!h->events.empty()) {
    // The C API, not node-addon-api: nothing may throw here (no JS frame to
    // catch it), and a worker being terminated refuses new values.
    size_t n = h->events.size() * 3;
    void* data = nullptr;
    napi_value ab, arr, undefined;
    if (napi_create_arraybuffer(env, n * sizeof(double), &data, &ab) == napi_ok &&
        napi_create_typedarray(env, napi_float64_array, n, ab, 0, &arr) == napi_ok && napi_get_undefined(env, &undefined) == napi_ok) {
      auto* d = static_cast<double*>(data);
      for (const tce::IoEvent& ev : h->events) {
        *d++ = ev.conn;
        *d++ = static_cast<double>(ev.kind);
        *d++ = ev.code;
      }
      napi_call_function(env, undefined, js_cb, 1, &arr, nullptr);
    }
    h->events.clear();
  }
  IoRef(h);
}

// The tsfn is gone (released, or the environment torn down).
void IoTsfnFinalize(napi_env, void* data, void*) {
  auto* h = static_cast<IoHolder*>(data);
  h->tsfn = nullptr;
  if (h->external_gone) delete h;
}

// At environment teardown (process exit, a worker's end): stop and join the
// thread before anything it could call is freed.
void IoCleanup(void* arg) {
  auto* h = static_cast<IoHolder*>(arg);
  h->hooked = false;
  h->loop->Stop();
}

void IoExternalFinalize(Napi::Env env, IoHolder* h) {
  if (h->hooked) napi_remove_env_cleanup_hook(env, IoCleanup, h);
  h->hooked = false;
  h->loop->Stop();
  h->external_gone = true;
  if (h->tsfn) napi_release_threadsafe_function(h->tsfn, napi_tsfn_abort);  // its finalizer deletes h
  else delete h;
}

IoHolder* IoArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 1 || !info[0].IsExternal()) throw Napi::TypeError::New(info.Env(), "expected an I/O loop from ioLoop()");
  auto ext = info[0].As<Napi::External<IoHolder>>();
  if (!ext.CheckTypeTag(&kIoLoopTag)) throw Napi::TypeError::New(info.Env(), "the handle is not a tce I/O loop");
  IoHolder* h = ext.Data();
  if (!h->loop->running()) throw Napi::Error::New(info.Env(), "the I/O loop is stopped");
  return h;
}

uint32_t WindowArg(const Napi::CallbackInfo& info, size_t i, const char* usage) {
  if (info.Length() <= i || !info[i].IsNumber()) throw Napi::TypeError::New(info.Env(), usage);
  double us = info[i].As<Napi::Number>().DoubleValue();
  if (!(us >= 0 && us <= 1e6) || us != static_cast<double>(static_cast<uint32_t>(us)))
    throw Napi::RangeError::New(info.Env(), "the poll window is whole microseconds, 0 to 1000000");
  return static_cast<uint32_t>(us);
}

// ioLoop(onEvents: (events: Float64Array) => void, nowMs: number, windowUs: number, batchReads?: boolean)
// -> loop, or a string saying why there is none (not Linux, no thread).
Napi::Value IoLoopNew(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* usage = "ioLoop(onEvents: function, nowMs: number, windowUs: number, batchReads?: boolean)";
  if (info.Length() < 2 || !info[0].IsFunction() || !info[1].IsNumber()) throw Napi::TypeError::New(env, usage);
  uint32_t window = WindowArg(info, 2, usage);
  if (info.Length() > 3 && !info[3].IsBoolean() && !info[3].IsUndefined()) throw Napi::TypeError::New(env, usage);
  bool batch = info.Length() <= 3 || !info[3].IsBoolean() || info[3].As<Napi::Boolean>().Value();
  double offset = info[1].As<Napi::Number>().DoubleValue() - tce::IoLoop::MonoMs();
  auto* h = new IoHolder();
  h->env = env;
  napi_value name = Napi::String::New(env, "tce-io");
  napi_status st = napi_create_threadsafe_function(env, info[0], nullptr, name, 0, 1, h, IoTsfnFinalize, h, IoCallJs, &h->tsfn);
  if (st != napi_ok) {
    delete h;
    return Napi::String::New(env, "napi_create_threadsafe_function failed");
  }
  napi_unref_threadsafe_function(env, h->tsfn);
  napi_threadsafe_function tsfn = h->tsfn;
  h->loop = std::make_unique<tce::IoLoop>([tsfn] { napi_call_threadsafe_function(tsfn, nullptr, napi_tsfn_nonblocking); }, offset);
  h->loop->SetWindow(window);
  h->loop->SetBatchReads(batch);
  std::string why;
  if (!h->loop->Start(&why)) {
    h->external_gone = true;
    napi_release_threadsafe_function(h->tsfn, napi_tsfn_abort);
    return Napi::String::New(env, why);
  }
  napi_add_env_cleanup_hook(env, IoCleanup, h);
  h->hooked = true;
  auto ext = Napi::External<IoHolder>::New(env, h, IoExternalFinalize);
  ext.TypeTag(&kIoLoopTag);
  return ext;
}

uint32_t IoConnArg(const Napi::CallbackInfo& info) {
  if (info.Length() < 2 || !info[1].IsNumber()) throw Napi::TypeError::New(info.Env(), "expected a connection id (number)");
  return info[1].As<Napi::Number>().Uint32Value();
}

// ioOpen(loop) -> connection id (no socket until ioConnect)
Napi::Value IoOpen(const Napi::CallbackInfo& info) {
  return Napi::Number::New(info.Env(), IoArg(info)->loop->Open());
}

// ioConnect(loop, conn, ips: numeric addresses, port, attemptTimeoutMs)
Napi::Value IoConnect(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  uint32_t id = IoConnArg(info);
  const char* usage = "ioConnect(loop, conn, ips: string[], port: number, attemptTimeoutMs: number)";
  if (info.Length() < 5 || !info[2].IsArray() || !info[3].IsNumber() || !info[4].IsNumber()) throw Napi::TypeError::New(info.Env(), usage);
  std::vector<std::string> ips;
  auto list = info[2].As<Napi::Array>();
  for (uint32_t i = 0; i < list.Length(); i++) {
    Napi::Value v = list.Get(i);
    if (!v.IsString()) throw Napi::TypeError::New(info.Env(), usage);
    ips.push_back(v.As<Napi::String>().Utf8Value());
  }
  h->loop->Connect(id, ips, info[3].As<Napi::Number>().Int32Value(), std::max(0, info[4].As<Napi::Number>().Int32Value()));
  return info.Env().Undefined();
}

// ioSend(loop, conn, stream, head: latin1 string, body: Uint8Array)
Napi::Value IoSend(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  Napi::Env env = info.Env();
  uint32_t id = IoConnArg(info);
  if (info.Length() < 5 || !info[2].IsNumber() || !info[3].IsString() || !info[4].IsTypedArray() || info[4].As<Napi::TypedArray>().TypedArrayType() != napi_uint8_array)
    throw Napi::TypeError::New(env, "ioSend(loop, conn, stream: number, head: string, body: Uint8Array)");
  size_t n = 0;
  napi_get_value_string_latin1(env, info[3], nullptr, 0, &n);
  std::string head(n, '\0');
  napi_get_value_string_latin1(env, info[3], &head[0], n + 1, &n);
  auto body = info[4].As<Napi::Uint8Array>();
  h->loop->Send(id, info[2].As<Napi::Number>().Uint32Value(), head.data(), head.size(), reinterpret_cast<const char*>(body.Data()), body.ElementLength());
  IoRef(h);
  return env.Undefined();
}

// ioUsable(loop, conn) -> whether the socket can carry a request (not closed, not busy)
Napi::Value IoUsable(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  return Napi::Boolean::New(info.Env(), h->loop->Usable(IoConnArg(info)));
}

// ioStatus(loop, conn) -> status of the response in flight once its head is complete, else 0
Napi::Value IoStatus(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  return Napi::Number::New(info.Env(), h->loop->Status(IoConnArg(info)));
}

// ioTake(loop, engine, conn): after a 200's done event, feeds its body (each
// read's chunks with that read's time) into the engine stream bound by ioSend.
Napi::Value IoTake(const Napi::CallbackInfo& info) {
  if (info.Length() < 3 || !info[1].IsExternal() || !info[2].IsNumber()) throw Napi::TypeError::New(info.Env(), "ioTake(loop, engine, conn)");
  IoHolder* h = IoArg(info);
  auto ext = info[1].As<Napi::External<Engine>>();
  if (!ext.CheckTypeTag(&kEngineTag)) throw Napi::TypeError::New(info.Env(), "the handle is not a tce stream engine");
  Engine* e = ext.Data();
  uint32_t id = info[2].As<Napi::Number>().Uint32Value();
  std::string body;
  std::vector<size_t> ends;
  std::vector<double> times;
  uint32_t stream = 0;
  h->loop->With(id, [&](tce::IoConn* c) {
    if (!c) return;
    body.swap(c->body);
    ends.swap(c->ends);
    times.swap(c->times);
    stream = c->stream;
  });
  auto it = stream ? e->streams.find(stream) : e->streams.end();
  if (it != e->streams.end()) {
    size_t prev = 0;
    for (size_t i = 0; i < ends.size(); i++) {
      it->second->Feed(body.data() + prev, ends[i] - prev, times[i]);
      prev = ends[i];
    }
  }
  return info.Env().Undefined();
}

// ioResult(loop, conn) -> httpResult's answer; a socket error is 'socket: <node:net's words>'
Napi::Value IoResult(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  Napi::Value out;
  h->loop->With(IoConnArg(info), [&](tce::IoConn* c) {
    if (!c) throw Napi::TypeError::New(info.Env(), "unknown or closed connection id");
    out = ResultArray(info.Env(), c->res, c->error_body, c->error);
  });
  return out;
}

// ioClose(loop, conn): closes the socket (a request in flight is abandoned)
Napi::Value IoClose(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  h->loop->Close(IoConnArg(info));
  IoRef(h);
  return info.Env().Undefined();
}

// ioWindow(loop, windowUs): sets the poll window from the thread's next batch on.
Napi::Value IoWindow(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  h->loop->SetWindow(WindowArg(info, 1, "ioWindow(loop, windowUs: number)"));
  return info.Env().Undefined();
}

// ioBatch(loop, on): whether a wake's reads go through one io_uring_enter (batch_recv.h).
Napi::Value IoBatch(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  if (info.Length() < 2 || !info[1].IsBoolean()) throw Napi::TypeError::New(info.Env(), "ioBatch(loop, on: boolean)");
  h->loop->SetBatchReads(info[1].As<Napi::Boolean>().Value());
  return info.Env().Undefined();
}

// ioStats(loop) -> { wakes, reads, batchedReads, batch, windowUs }: the thread's
// wakes that found a socket ready, its reads that returned bytes (those of
// them read in a batch), since the loop started, and the batch reads' state.
Napi::Value IoStats(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  Napi::Object o = Napi::Object::New(info.Env());
  o.Set("wakes", Napi::Number::New(info.Env(), static_cast<double>(h->loop->wakes())));
  o.Set("reads", Napi::Number::New(info.Env(), static_cast<double>(h->loop->reads())));
  o.Set("batchedReads", Napi::Number::New(info.Env(), static_cast<double>(h->loop->batched_reads())));
  o.Set("batch", Napi::String::New(info.Env(), h->loop->BatchState()));
  o.Set("windowUs", Napi::Number::New(info.Env(), h->loop->window()));
  return o;
}

// ioStop(loop): stops and joins the thread, closes every socket; later calls throw.
Napi::Value IoStop(const Napi::CallbackInfo& info) {
  IoHolder* h = IoArg(info);
  if (h->refd) napi_unref_threadsafe_function(info.Env(), h->tsfn);
  h->refd = false;
  h->loop->Stop();
  return info.Env().Undefined();
}

// A checked byte range of a Uint8Array argument (ByteRange below).
struct Bytes {
  uint8_t* p;
  size_t n;
};

// Argument i as a Uint8Array followed by `numbers` numbers, else a TypeError naming `sig`.
Napi::Uint8Array Uint8Arg(const Napi::CallbackInfo& info, size_t i, size_t numbers, const char* sig) {
  bool ok = info.Length() >= i + 1 + numbers && info[i].IsTypedArray() && info[i].As<Napi::TypedArray>().TypedArrayType() == napi_uint8_array;
  for (size_t k = 1; ok && k <= numbers; k++) ok = info[i + k].IsNumber();
  if (!ok) throw Napi::TypeError::New(info.Env(), sig);
  return info[i].As<Napi::Uint8Array>();
}

// Argument i (a Uint8Array) and the numbers start, end after it, as the range
// [start, end) of its bytes; a RangeError when the range leaves the array.
Bytes ByteRange(const Napi::CallbackInfo& info, size_t i, const char* sig) {
  auto a = Uint8Arg(info, i, 2, sig);
  const double start = info[i + 1].As<Napi::Number>().DoubleValue();
  const double end = info[i + 2].As<Napi::Number>().DoubleValue();
  if (!(start >= 0 && start <= end && end <= static_cast<double>(a.ElementLength()))) throw Napi::RangeError::New(info.Env(), std::string(sig) + ": range outside the array");
  return {a.Data() + static_cast<size_t>(start), static_cast<size_t>(end - start)};
}

// lz4EncodeBlock(src: Uint8Array, start, end, dst: Uint8Array, at, limit) -> the end of
// the block written to dst[at, limit), or -1 when it would not fit there.
Napi::Value Lz4EncodeBlock(const Napi::CallbackInfo& info) {
  const char* sig = "lz4EncodeBlock(src: Uint8Array, start, end, dst: Uint8Array, at, limit)";
  Bytes src = ByteRange(info, 0, sig);
  Bytes dst = ByteRange(info, 3, sig);
  const int64_t n = tce::Lz4CompressBlock(src.p, src.n, dst.p, dst.n);
  const double at = info[4].As<Napi::Number>().DoubleValue();
  return Napi::Number::New(info.Env(), n < 0 ? -1 : at + static_cast<double>(n));
}

// lz4DecodeBlock(src: Uint8Array, start, end, dst: Uint8Array, at) -> the end of
// what was decoded into dst from `at` (matches may reach back to dst[0]), or -1
// when dst is too small; a malformed block throws.
Napi::Value Lz4DecodeBlock(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const char* sig = "lz4DecodeBlock(src: Uint8Array, start, end, dst: Uint8Array, at)";
  Bytes src = ByteRange(info, 0, sig);
  auto dst = Uint8Arg(info, 3, 1, sig);
  const double at = info[4].As<Napi::Number>().DoubleValue();
  if (!(at >= 0 && at <= static_cast<double>(dst.ElementLength()))) throw Napi::RangeError::New(env, std::string(sig) + ": at outside dst");
  size_t pos = static_cast<size_t>(at);
  const char* why = "lz4: malformed block";
  switch (tce::Lz4DecodeBlock(src.p, src.n, dst.Data(), dst.ElementLength(), &pos, &why)) {
    case tce::Lz4Decoded::kOk: return Napi::Number::New(env, static_cast<double>(pos));
    case tce::Lz4Decoded::kNoRoom: return Napi::Number::New(env, -1);
    case tce::Lz4Decoded::kMalformed: break;
  }
  throw Napi::Error::New(env, why);
}

Napi::Object Init(Napi::Env env, Napi::Object exports) {
  exports.Set("version", Napi::Function::New(env, Version, "version"));
  exports.Set("createEngine", Napi::Function::New(env, CreateEngine, "createEngine"));
  exports.Set("open", Napi::Function::New(env, Open, "open"));
  exports.Set("feed", Napi::Function::New(env, Feed, "feed"));
  exports.Set("finish", Napi::Function::New(env, Finish, "finish"));
  exports.Set("close", Napi::Function::New(env, Close, "close"));
  exports.Set("extractTexts", Napi::Function::New(env, ExtractTexts, "extractTexts"));
  exports.Set("httpOpen", Napi::Function::New(env, HttpOpen, "httpOpen"));
  exports.Set("httpBegin", Napi::Function::New(env, HttpBegin, "httpBegin"));
  exports.Set("httpRead", Napi::Function::New(env, HttpRead, "httpRead"));
  exports.Set("httpEof", Napi::Function::New(env, HttpEof, "httpEof"));
  exports.Set("httpResult", Napi::Function::New(env, HttpResult, "httpResult"));
  exports.Set("httpClose", Napi::Function::New(env, HttpClose, "httpClose"));
  exports.Set("ioLoop", Napi::Function::New(env, IoLoopNew, "ioLoop"));
  exports.Set("ioOpen", Napi::Function::New(env, IoOpen, "ioOpen"));
  exports.Set("ioConnect", Napi::Function::New(env, IoConnect, "ioConnect"));
  exports.Set("ioSend", Napi::Function::New(env, IoSend, "ioSend"));
  exports.Set("ioUsable", Napi::Function::New(env, IoUsable, "ioUsable"));
  exports.Set("ioStatus", Napi::Function::New(env, IoStatus, "ioStatus"));
  exports.Set("ioTake", Napi::Function::New(env, IoTake, "ioTake"));
  exports.Set("ioResult", Napi::Function::New(env, IoResult, "ioResult"));
  exports.Set("ioClose", Napi::Function::New(env, IoClose, "ioClose"));
  exports.Set("ioWindow", Napi::Function::New(env, IoWindow, "ioWindow"));
  exports.Set("ioStats", Napi::Function::New(env, IoStats, "ioStats"));
  exports.Set("ioBatch", Napi::Function::New(env, IoBatch, "ioBatch"));
  exports.Set("ioStop", Napi::Function::New(env, IoStop, "ioStop"));
  exports.Set("lz4EncodeBlock", Napi::Function::New(env, Lz4EncodeBlock, "lz4EncodeBlock"));
  exports.Set("lz4DecodeBlock", Napi::Function::New(env, Lz4DecodeBlock, "lz4DecodeBlock"));
  return exports;
}

}  // namespace

NODE_API_MODULE(tce_native, Init)
