// A small JSON tree and the tolerant reader for small-model tool calls (the
// twin is src/extract/twin/lenient-json.ts; both accept the same grammar and
// record the same repairs). Strict mode (repairs fail) reads server events.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>
#include <vector>

namespace tce {

enum class Repair : uint8_t {
  kSingleQuotes, kTrailingComma, kPythonLiterals, kRawNewline, kMissingBrace,
  kCodeFence, kArgumentsString, kParametersKey, kMissingArguments, kUnescapedQuote,
};
const char* RepairName(Repair r);

/** Repairs in order of first use, each once. */
struct RepairList {
  std::vector<Repair> items;
  void Add(Repair r);
  bool Has(Repair r) const;
};

struct JValue {
  enum class Kind : uint8_t { kNull, kTrue, kFalse, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  std::string str;                // decoded UTF-8 string, or the number's lexeme
  std::vector<JValue> items;      // array elements, or object values
  std::vector<std::string> keys;  // object keys, aligned with items

  /** Last member with this key (JSON.parse semantics), or nullptr. */
  const JValue* Get(const char* key) const;
  bool IsObject() const { return kind == Kind::kObject; }
};

struct ParseOptions {
  bool whole = true;      // only whitespace may follow the value
  bool eof_close = true;  // end of text inside containers closes them (missing_brace)
  bool strict = false;    // any repair is a failure
};

constexpr int kMaxDepth = 256;

/** Parses one value at data[start]. On success *end is just past it. */
bool ParseLenient(const char* data, size_t n, size_t start, const ParseOptions& opts,
                  JValue* out, RepairList* repairs, size_t* end);

/** Compact JSON text, as JSON.stringify would write the parsed value
 * (numbers keep their lexeme; JSON.parse reads it back identically). */
void Serialize(const JValue& v, std::string& out);

inline bool IsJsonWs(unsigned char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

}  // namespace tce
