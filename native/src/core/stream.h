// One response stream: SSE framing over raw body bytes split anywhere (or
// plain text), the event fields, timing per body chunk, and at finish the
// tool-call extraction. Twin: src/extract/twin/stream-state.ts.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

#include "core/sse_event.h"
#include "core/tool_calls.h"

namespace tce {

struct StreamResult {
  TextExtraction extraction;  // tool calls (server ones first), content, reasoning
  std::string text;
  bool has_finish = false;
  std::string finish_reason;
  bool has_usage = false;
  double prompt_tokens = 0, completion_tokens = 0;
  bool has_error = false;
  std::string error_message;
  bool has_error_type = false;
  std::string error_type;
  bool has_error_code = false;
  double error_code = 0;
  std::vector<double> chunk_times;
  std::vector<uint32_t> chunk_tokens;
  bool saw_done = false;
};

extern const char kMalformedEvent[];

class Stream {
 public:
  enum class Mode : uint8_t { kSse, kText };
  Stream(Mode mode, ToolNames names) : mode_(mode), names_(std::move(names)) {}

  void Feed(const char* data, size_t n, double time_ms);
  /** Ends the stream; call once. */
  void Finish(StreamResult* out);
  /** Every event through the full parser (the fuzzer checks both agree). */
  void DisableFastPath() { fast_path_ = false; }

 private:
  void Lines(const char* p, size_t n);
  void OnLine(const char* p, size_t n);
  void Dispatch();
  void OnEvent();
  void Account(uint32_t n);

  Mode mode_;
  ToolNames names_;
  std::string line_;       // a line split across body chunks
  std::string data_;       // the event's data lines
  size_t data_lines_ = 0;
  std::string raw_text_;   // text mode: bytes as received
  double last_time_ = 0;
  uint32_t pending_ = 0;
  SseEvent ev_;            // reused for every event
  SseTemplate template_;   // the bytes around the last content string
  bool fast_path_ = true;
  std::string server_reasoning_;
  struct ServerSlot {
    double index;
    std::string name, args;
  };
  std::vector<ServerSlot> server_;
  StreamResult r_;
};

}  // namespace tce
