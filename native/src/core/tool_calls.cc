#include "core/tool_calls.h"

#include <cstring>

namespace tce {

namespace {

constexpr char kOpen[] = "<tool_call>";
constexpr char kClose[] = "</tool_call>";
constexpr char kFnOpen[] = "<function";
constexpr char kFnClose[] = "</function>";
constexpr char kThinkOpen[] = "<think>";
constexpr char kThinkClose[] = "</think>";
constexpr size_t kOpenLen = sizeof(kOpen) - 1;
constexpr size_t kCloseLen = sizeof(kClose) - 1;
constexpr size_t kFnOpenLen = sizeof(kFnOpen) - 1;
constexpr size_t kFnCloseLen = sizeof(kFnClose) - 1;
constexpr size_t kThinkOpenLen = sizeof(kThinkOpen) - 1;
constexpr size_t kThinkCloseLen = sizeof(kThinkClose) - 1;

std::string TrimWs(const std::string& s) {
  size_t a = 0, b = s.size();
  while (a < b && IsJsonWs(static_cast<unsigned char>(s[a]))) a++;
  while (b > a && IsJsonWs(static_cast<unsigned char>(s[b - 1]))) b--;
  return s.substr(a, b - a);
}

bool StartsWithAt(const std::string& s, size_t i, const char* lit) {
  size_t n = std::strlen(lit);
  return i + n <= s.size() && std::memcmp(s.data() + i, lit, n) == 0;
}

bool ParseWhole(const std::string& s, JValue* v, RepairList* r, bool eof_close = true) {
  ParseOptions o;
  o.eof_close = eof_close;
  return ParseLenient(s.data(), s.size(), 0, o, v, r, nullptr);
}

// Index of the closing tag, skipping tags inside JSON strings; a single quote
// opens a string only where a JSON key or value may start.
size_t FindClose(const std::string& s, size_t start, const char* close, bool* closed) {
  char quote = 0;
  char prev = 0;
  for (size_t i = start; i < s.size(); i++) {
    char c = s[i];
    if (quote) {
      if (c == '\\') {
        i++;
      } else if (c == quote) {
        quote = 0;
        prev = c;
      }
      continue;
    }
    if (c == '"') quote = c;
    else if (c == '\'' && (prev == '{' || prev == '[' || prev == ':' || prev == ',')) quote = c;
    else if (c == '<' && StartsWithAt(s, i, close)) {
      *closed = true;
      return i;
    }
    if (!IsJsonWs(static_cast<unsigned char>(c))) prev = c;
  }
  // Ending inside a string means an unbalanced quote hid the tag: fall back
  // to the first literal one. Otherwise the block really is unterminated.
  size_t j = quote ? s.find(close, start) : std::string::npos;
  *closed = j != std::string::npos;
  return *closed ? j : s.size();
}

// The arguments into c->args_json; a JSON string is read once more (repair
// arguments_string). False when that string is not JSON.
bool SetArgs(const JValue& args, ToolCall* c) {
  if (args.kind == JValue::Kind::kString) {
    JValue inner;
    RepairList r;
    bool ok = ParseWhole(args.str, &inner, &r);
    c->repairs.Add(Repair::kArgumentsString);
    for (Repair x : r.items) c->repairs.Add(x);
    if (!ok) return false;
    Serialize(inner, c->args_json);
  } else {
    Serialize(args, c->args_json);
  }
  c->has_args = true;
  return true;
}

ToolCall ToCall(const JValue& item, const RepairList& base, const std::string& raw, bool closed) {
  ToolCall c;
  c.repairs = base;
  c.raw = raw;
  const JValue* name = item.Get("name");
  if (!name || name->kind != JValue::Kind::kString) {
    c.status = CallStatus::kInvalidJson;
    return c;
  }
  c.has_name = true;
  c.name = name->str;
  const JValue* args = item.Get("arguments");
  if (!args) {
    args = item.Get("parameters");
    if (args) c.repairs.Add(Repair::kParametersKey);
  }
  if (!args) {
    c.repairs.Add(Repair::kMissingArguments);
    c.args_json = "{}";
    c.has_args = true;
  } else if (!SetArgs(*args, &c)) {
    c.status = CallStatus::kInvalidJson;
    return c;
  }
  if (closed) c.status = c.repairs.items.empty() ? CallStatus::kOk : CallStatus::kRepaired;
  else c.status = c.repairs.Has(Repair::kMissingBrace) ? CallStatus::kTruncated : CallStatus::kUnterminated;
  return c;
}

// The block body trimmed, without a code fence around it (repair code_fence).
std::string Unfenced(const std::string& body, RepairList* repairs) {
  std::string t = TrimWs(body);
  if (t.compare(0, 3, "```") == 0) {
    size_t nl = t.find('\n');
    t = nl == std::string::npos ? t.substr(3) : t.substr(nl + 1);
    t = TrimWs(t);
    if (t.size() >= 3 && t.compare(t.size() - 3, 3, "```") == 0) t = TrimWs(t.substr(0, t.size() - 3));
    repairs->Add(Repair::kCodeFence);
  }
  return t;
}

void BlockCalls(const std::string& body, bool closed, bool in_reasoning, std::vector<ToolCall>* out) {
  RepairList repairs;
  std::string t = Unfenced(body, &repairs);
  JValue v;
  bool ok = ParseWhole(t, &v, &repairs);
  size_t first = out->size();
  if (ok && v.kind == JValue::Kind::kArray) {
    for (const JValue& it : v.items) out->push_back(ToCall(it, repairs, body, closed));
  } else if (ok) {
    out->push_back(ToCall(v, repairs, body, closed));
  }
  if (out->size() == first) {
    ToolCall c;
    c.repairs = repairs;
    c.raw = body;
    c.status = ok || closed ? CallStatus::kInvalidJson : CallStatus::kTruncated;
    out->push_back(std::move(c));
  }
  if (in_reasoning)
    for (size_t i = first; i < out->size(); i++) (*out)[i].status = CallStatus::kInReasoning;
}

enum class TagKind : uint8_t { kNone, kThink, kToolCall, kFunction };

struct Tag {
  TagKind kind = TagKind::kNone;
  size_t at = 0;    // index of its '<'
  size_t body = 0;  // just past it
  CallStatus syntax = CallStatus::kOk;  // function tags: which of the two
  std::string name;                     // function tags: the tool name
};

bool NameChar(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' || c == '-' || c == '.';
}

// `<function=NAME>` or `<function name="NAME">` (either quote, whitespace
// before `name` and before `>`), NAME of [A-Za-z0-9_.-]; s[i] starts "<function".
bool FunctionTag(const std::string& s, size_t i, Tag* t) {
  const size_t n = s.size();
  size_t j = i + kFnOpenLen;
  char quote = 0;
  if (j < n && s[j] == '=') {
    j++;
    t->syntax = CallStatus::kFunctionEq;
  } else if (j < n && IsJsonWs(static_cast<unsigned char>(s[j]))) {
    while (j < n && IsJsonWs(static_cast<unsigned char>(s[j]))) j++;
    if (!StartsWithAt(s, j, "name=") || j + 5 >= n || (s[j + 5] != '"' && s[j + 5] != '\'')) return false;
    quote = s[j + 5];
    j += 6;
    t->syntax = CallStatus::kFunctionAttr;
  } else {
    return false;
  }
  size_t a = j;
  while (j < n && NameChar(s[j])) j++;
  if (j == a) return false;
  t->name.assign(s, a, j - a);
  if (quote) {
    if (j >= n || s[j] != quote) return false;
    j++;
    while (j < n && IsJsonWs(static_cast<unsigned char>(s[j]))) j++;
  }
  if (j >= n || s[j] != '>') return false;
  t->kind = TagKind::kFunction;
  t->at = i;
  t->body = j + 1;
  return true;
}

// The first <think> (when `think`), <tool_call> or function tag at or after pos.
Tag NextTag(const std::string& s, size_t pos, bool think) {
  Tag t;
  const char* d = s.data();
  while (pos < s.size()) {
    const void* p = std::memchr(d + pos, '<', s.size() - pos);
    if (!p) break;
    size_t i = static_cast<size_t>(static_cast<const char*>(p) - d);
    if (think && StartsWithAt(s, i, kThinkOpen)) {
      t.kind = TagKind::kThink;
      t.at = i;
      t.body = i + kThinkOpenLen;
      return t;
    }
    if (StartsWithAt(s, i, kOpen)) {
      t.kind = TagKind::kToolCall;
      t.at = i;
      t.body = i + kOpenLen;
      return t;
    }
    if (StartsWithAt(s, i, kFnOpen) && FunctionTag(s, i, &t)) return t;
    pos = i + 1;
  }
  t.kind = TagKind::kNone;
  return t;
}

// A function block: the name comes from the tag, the body is the arguments.
void FunctionCall(const std::string& body, const Tag& t, bool closed, bool in_reasoning, std::vector<ToolCall>* out) {
  ToolCall c;
  c.has_name = true;
  c.name = t.name;
  c.raw = body;
  std::string v = Unfenced(body, &c.repairs);
  JValue args;
  if (v.empty()) {
    if (closed) {
      c.repairs.Add(Repair::kMissingArguments);
      c.has_args = true;
      c.args_json = "{}";
    }
    c.status = closed ? t.syntax : CallStatus::kTruncated;
  } else if (!ParseWhole(v, &args, &c.repairs)) {
    c.status = closed ? CallStatus::kInvalidJson : CallStatus::kTruncated;
  } else if (!SetArgs(args, &c)) {
    c.status = CallStatus::kInvalidJson;
  } else {
    c.status = !closed && c.repairs.Has(Repair::kMissingBrace) ? CallStatus::kTruncated : t.syntax;
  }
  if (in_reasoning) c.status = CallStatus::kInReasoning;
  out->push_back(std::move(c));
}

// The calls of the block opened by `t`; returns the index just past it.
size_t Block(const std::string& s, const Tag& t, bool in_reasoning, std::vector<ToolCall>* out) {
  const bool fn = t.kind == TagKind::kFunction;
  bool closed = false;
  size_t end = FindClose(s, t.body, fn ? kFnClose : kClose, &closed);
  std::string body = s.substr(t.body, end - t.body);
  if (fn) FunctionCall(body, t, closed, in_reasoning, out);
  else BlockCalls(body, closed, in_reasoning, out);
  return closed ? end + (fn ? kFnCloseLen : kCloseLen) : s.size();
}

void ReasoningBlocks(const std::string& s, std::vector<ToolCall>* out) {
  size_t pos = 0;
  for (;;) {
    Tag t = NextTag(s, pos, false);
    if (t.kind == TagKind::kNone) return;
    pos = Block(s, t, true, out);
  }
}

bool Known(const std::vector<std::string>& known, const std::string& name) {
  for (const std::string& k : known)
    if (k == name) return true;
  return false;
}

bool QualifiesUntagged(const JValue& v, const std::vector<std::string>& known) {
  if (!v.IsObject()) return false;
  const JValue* name = v.Get("name");
  return name && name->kind == JValue::Kind::kString && Known(known, name->str) && (v.Get("arguments") || v.Get("parameters"));
}

void UntaggedCall(const JValue& v, const RepairList& r, const std::string& raw, std::vector<ToolCall>* out) {
  ToolCall c = ToCall(v, r, raw, true);
  if (c.status != CallStatus::kInvalidJson) c.status = CallStatus::kUntagged;
  out->push_back(std::move(c));
}

std::string AsciiLower(std::string s) {
  for (char& c : s)
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c + 32);
  return s;
}

void UntaggedCalls(const std::string& content, const std::vector<std::string>& known, std::vector<ToolCall>* out) {
  size_t first = out->size();
  size_t i = 0;
  for (;;) {
    size_t f = content.find("```", i);
    if (f == std::string::npos) break;
    size_t nl = content.find('\n', f + 3);
    if (nl == std::string::npos) break;
    size_t end = content.find("```", nl + 1);
    if (end == std::string::npos) break;
    std::string lang = AsciiLower(TrimWs(content.substr(f + 3, nl - f - 3)));
    if (lang.empty() || lang == "json") {
      std::string body = content.substr(nl + 1, end - nl - 1);
      JValue v;
      RepairList r;
      if (ParseWhole(TrimWs(body), &v, &r, false)) {
        if (v.kind == JValue::Kind::kArray) {
          for (const JValue& it : v.items)
            if (QualifiesUntagged(it, known)) UntaggedCall(it, r, body, out);
        } else if (QualifiesUntagged(v, known)) {
          UntaggedCall(v, r, body, out);
        }
      }
    }
    i = end + 3;
  }
  if (out->size() > first) return;
  i = 0;
  for (;;) {
    size_t b = content.find('{', i);
    if (b == std::string::npos) break;
    size_t j = b + 1;
    while (j < content.size() && IsJsonWs(static_cast<unsigned char>(content[j]))) j++;
    if (StartsWithAt(content, j, "\"name\"") || StartsWithAt(content, j, "'name'")) {
      ParseOptions o;
      o.whole = false;
      o.eof_close = false;
      JValue v;
      RepairList r;
      size_t end = 0;
      if (ParseLenient(content.data(), content.size(), b, o, &v, &r, &end) && QualifiesUntagged(v, known)) {
        UntaggedCall(v, r, content.substr(b, end - b), out);
        i = end;
        continue;
      }
    }
    i = b + 1;
  }
}

// Calls the executor will see (the offered-set check applies to these).
bool Accepted(CallStatus s) {
  return s == CallStatus::kOk || s == CallStatus::kRepaired || s == CallStatus::kUnterminated || s == CallStatus::kUntagged ||
         s == CallStatus::kFunctionEq || s == CallStatus::kFunctionAttr;
}

}  // namespace

const char* CallStatusName(CallStatus s) {
  switch (s) {
    case CallStatus::kOk: return "ok";
    case CallStatus::kRepaired: return "repaired";
    case CallStatus::kUnterminated: return "unterminated";
    case CallStatus::kUntagged: return "untagged";
    case CallStatus::kTruncated: return "truncated";
    case CallStatus::kInvalidJson: return "invalid_json";
    case CallStatus::kInReasoning: return "in_reasoning";
    case CallStatus::kFunctionEq: return "function_eq";
    case CallStatus::kFunctionAttr: return "function_attr";
    case CallStatus::kNotOffered: return "not_offered";
  }
  return "invalid_json";
}

ToolCall ServerCall(const std::string& name, const std::string& args_text) {
  ToolCall c;
  c.has_name = true;
  c.name = name;
  c.raw = args_text;
  c.from_server = true;
  if (TrimWs(args_text).empty()) {
    c.has_args = true;
    c.args_json = "{}";
    return c;
  }
  JValue v;
  if (!ParseWhole(args_text, &v, &c.repairs)) {
    c.status = CallStatus::kInvalidJson;
    return c;
  }
  c.has_args = true;
  Serialize(v, c.args_json);
  c.status = c.repairs.items.empty() ? CallStatus::kOk : CallStatus::kRepaired;
  return c;
}

void ExtractFromText(const std::string& s, const ToolNames& names, TextExtraction* out) {
  size_t pos = 0;
  bool saw_tag = false;
  size_t first_open = s.find(kThinkOpen);
  size_t first_close = s.find(kThinkClose);
  if (first_close != std::string::npos && (first_open == std::string::npos || first_close < first_open)) {
    std::string inner = s.substr(0, first_close);
    out->reasoning += inner;
    ReasoningBlocks(inner, &out->calls);
    pos = first_close + kThinkCloseLen;
  }
  for (;;) {
    Tag t = NextTag(s, pos, true);
    if (t.kind == TagKind::kNone) break;
    out->content.append(s, pos, t.at - pos);
    if (t.kind == TagKind::kThink) {
      size_t end = s.find(kThinkClose, t.body);
      std::string inner = end == std::string::npos ? s.substr(t.body) : s.substr(t.body, end - t.body);
      out->reasoning += inner;
      ReasoningBlocks(inner, &out->calls);
      pos = end == std::string::npos ? s.size() : end + kThinkCloseLen;
    } else {
      saw_tag = true;
      pos = Block(s, t, false, &out->calls);
    }
  }
  out->content.append(s, pos, std::string::npos);
  if (!saw_tag) UntaggedCalls(out->content, names.known, &out->calls);
  if (names.has_offered)
    for (ToolCall& c : out->calls)
      if (Accepted(c.status) && !Known(names.offered, c.name)) c.status = CallStatus::kNotOffered;
}

}  // namespace tce
