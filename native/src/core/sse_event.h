// Reads one SSE `data:` payload (an OpenAI-style chat.completion.chunk) in a
// single pass: the fields the engine needs are decoded, everything else is
// validated and skipped, so the whole event costs no allocation in the
// common content-delta case. Validity matches JSON.parse exactly; duplicate
// keys follow JSON.parse (the last one wins).
#pragma once
#include <string>

#include "core/json_value.h"

namespace tce {

struct SseEvent {
  bool is_object = false;
  // {"error": ...} or the older {"object": "error", "message": ...}
  bool has_error_key = false;
  JValue error;
  bool object_is_error = false;
  JValue message, type, code;  // top level, for the older error shape
  JValue usage;
  // choices[0]
  bool has_finish = false;
  std::string finish_reason;
  bool has_content = false;
  std::string content;
  bool has_reasoning_key = false;
  bool has_reasoning = false;
  std::string reasoning;
  bool has_reasoning_content = false;
  std::string reasoning_content;
  JValue tool_calls;
  // Where the content value that won (duplicate keys: the last) sits in the
  // payload, between its quotes; content_end == 0 when there is none.
  size_t content_begin = 0, content_end = 0;

  void Clear();
};

/** A stream's last plain content event, split around its content string.
 * Servers repeat the same bytes around every delta (vLLM: id, created,
 * model, index, logprobs...), so a later payload that has exactly this
 * prefix and suffix with a valid JSON string between them parses to the
 * same event with only the content changed: that string is all there is
 * left to read. Anything else goes through the full parser. */
struct SseTemplate {
  std::string prefix;  // up to and including the content's opening quote
  std::string suffix;  // after its closing quote
  bool ready = false;
};

/** False when the payload is not valid JSON. A non-object payload is valid
 * and leaves is_object false. */
bool ParseSseEvent(const char* data, size_t n, SseEvent* ev);

/** The same, trying `tmpl` first and refreshing it from events that carry
 * nothing but a content string. Results are identical to the above. */
bool ParseSseEvent(const char* data, size_t n, SseEvent* ev, SseTemplate* tmpl);

}  // namespace tce
