// libFuzzer target for the plain C++ core (no N-API): built with ASan+UBSan
// by native/fuzz/run-fuzz.sh. Besides memory errors it checks the engine's
// own invariants: a stream fed in arbitrary splits gives the same result as
// the same bytes fed whole, and the fast path for repeated event framing
// gives what the full parser gives.
#include <cctype>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>
#include <vector>

#include "core/answer_lines.h"
#include "core/json_value.h"
#include "core/stream.h"
#include "core/tool_calls.h"
#include "core/utf8.h"

namespace {

bool SameCalls(const std::vector<tce::ToolCall>& a, const std::vector<tce::ToolCall>& b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); i++) {
    const tce::ToolCall& x = a[i];
    const tce::ToolCall& y = b[i];
    if (x.has_name != y.has_name || x.name != y.name || x.has_args != y.has_args || x.args_json != y.args_json ||
        x.status != y.status || x.repairs.items != y.repairs.items || x.raw != y.raw || x.from_server != y.from_server)
      return false;
  }
  return true;
}

bool Same(const tce::StreamResult& a, const tce::StreamResult& b) {
  return a.text == b.text && a.extraction.content == b.extraction.content && a.extraction.reasoning == b.extraction.reasoning &&
         SameCalls(a.extraction.calls, b.extraction.calls) && a.finish_reason == b.finish_reason && a.has_usage == b.has_usage &&
         a.error_message == b.error_message && a.saw_done == b.saw_done;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  // Byte 0: mode, whether the offered set is known, and split seed; the rest is the body.
  const bool text_mode = data[0] & 1;
  unsigned split = data[0] >> 2;
  const char* body = reinterpret_cast<const char*>(data + 1);
  const size_t n = size - 1;
  tce::ToolNames tools;
  tools.known = {"check_scene_prior", "a"};
  tools.has_offered = data[0] & 2;
  if (tools.has_offered) tools.offered = {"a", "b"};
  const auto mode = text_mode ? tce::Stream::Mode::kText : tce::Stream::Mode::kSse;

  tce::Stream whole(mode, tools);
  whole.Feed(body, n, 0);
  tce::StreamResult rw;
  whole.Finish(&rw);

  tce::Stream parts(mode, tools);
  size_t pos = 0;
  double t = 0;
  while (pos < n) {
    size_t len = 1 + (split * 7 + pos) % 13;
    if (len > n - pos) len = n - pos;
    parts.Feed(body + pos, len, t++);
    pos += len;
  }
  tce::StreamResult rp;
  parts.Finish(&rp);
  if (!Same(rw, rp)) std::abort();

  // The fast path for repeated event framing must change nothing.
  tce::Stream full(mode, tools);
  full.DisableFastPath();
  full.Feed(body, n, 0);
  tce::StreamResult rf;
  full.Finish(&rf);
  if (!Same(rw, rf) || rw.has_finish != rf.has_finish || rw.has_error_type != rf.has_error_type || rw.error_type != rf.error_type ||
      rw.chunk_tokens != rf.chunk_tokens)
    std::abort();

  // Statuses: a function-syntax call names a tool of [A-Za-z0-9_.-]; with
  // the offered set known no readable call names a tool outside it.
  for (const tce::ToolCall& c : rw.extraction.calls) {
    if (c.status == tce::CallStatus::kFunctionEq || c.status == tce::CallStatus::kFunctionAttr) {
      if (!c.has_name || c.name.empty() || !c.has_args) std::abort();
      for (char ch : c.name)
        if (!(std::isalnum(static_cast<unsigned char>(ch)) || ch == '_' || ch == '-' || ch == '.')) std::abort();
    }
    if (tools.has_offered && c.status != tce::CallStatus::kNotOffered && c.has_args && c.status != tce::CallStatus::kInReasoning &&
        c.status != tce::CallStatus::kTruncated && c.name != "a" && c.name != "b")
      std::abort();
  }

  // The final-answer line scan, on the raw bytes and on the extracted content.
  for (const std::string& text : {std::string(body, n), rw.extraction.content}) {
    std::vector<tce::AnswerLine> lines;
    tce::ScanAnswerLines(text, &lines);
    for (const tce::AnswerLine& l : lines)
      if (l.at > text.size() || l.value.size() > text.size() - l.at) std::abort();
  }

  // The tolerant parser alone, in every mode, and its output must be strict JSON.
  for (int m = 0; m < 4; m++) {
    tce::ParseOptions o;
    o.whole = m & 1;
    o.eof_close = m & 2;
    tce::JValue v;
    tce::RepairList r;
    size_t end = 0;
    if (tce::ParseLenient(body, n, 0, o, &v, &r, &end)) {
      std::string out;
      tce::Serialize(v, out);
      tce::ParseOptions strict;
      strict.strict = true;
      tce::JValue back;
      tce::RepairList r2;
      std::string clean;
      tce::AppendSanitized(clean, out.data(), out.size());
      if (clean == out && !tce::ParseLenient(out.data(), out.size(), 0, strict, &back, &r2, nullptr)) std::abort();
    }
  }
  return 0;
}
