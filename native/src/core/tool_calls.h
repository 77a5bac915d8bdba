// Tool-call rules over assistant text: <tool_call> blocks, <think> regions,
// repairs, the untagged fallback and server-parsed calls. Twin:
// src/extract/twin/tool-calls.ts; the rules are listed in docs/extract.md.
#pragma once
#include <string>
#include <vector>

#include "core/json_value.h"

namespace tce {

// Order = the packed status index (src/extract/packed.ts STATUS).
enum class CallStatus : uint8_t {
  kOk, kRepaired, kUnterminated, kUntagged, kTruncated, kInvalidJson, kInReasoning,
  kFunctionEq, kFunctionAttr, kNotOffered,
};
const char* CallStatusName(CallStatus s);

/** The tool names a stream knows about. */
struct ToolNames {
  std::vector<std::string> known;  // what the untagged fallback recognises
  bool has_offered = false;        // the offered set is known: calls outside it are not_offered
  std::vector<std::string> offered;
};

struct ToolCall {
  bool has_name = false;
  std::string name;
  bool has_args = false;
  std::string args_json;  // compact JSON of the arguments (see Serialize)
  CallStatus status = CallStatus::kOk;
  RepairList repairs;
  std::string raw;
  bool from_server = false;
};

struct TextExtraction {
  std::vector<ToolCall> calls;
  std::string content;
  std::string reasoning;
};

/** `text` must be valid UTF-8 (see AppendSanitized). Calls already in
 * out->calls (server ones) are checked against the offered set too. */
void ExtractFromText(const std::string& text, const ToolNames& names, TextExtraction* out);

ToolCall ServerCall(const std::string& name, const std::string& args_text);

}  // namespace tce
