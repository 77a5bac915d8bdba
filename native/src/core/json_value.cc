#include "core/json_value.h"

#include <cstring>

#include "core/utf8.h"

namespace tce {

const char* RepairName(Repair r) {
  switch (r) {
    case Repair::kSingleQuotes: return "single_quotes";
    case Repair::kTrailingComma: return "trailing_comma";
    case Repair::kPythonLiterals: return "python_literals";
    case Repair::kRawNewline: return "raw_newline";
    case Repair::kMissingBrace: return "missing_brace";
    case Repair::kCodeFence: return "code_fence";
    case Repair::kArgumentsString: return "arguments_string";
    case Repair::kParametersKey: return "parameters_key";
    case Repair::kMissingArguments: return "missing_arguments";
    case Repair::kUnescapedQuote: return "unescaped_quote";
  }
  return "unknown";
}

void RepairList::Add(Repair r) {
  if (!Has(r)) items.push_back(r);
}
bool RepairList::Has(Repair r) const {
  for (Repair x : items)
    if (x == r) return true;
  return false;
}

const JValue* JValue::Get(const char* key) const {
  if (kind != Kind::kObject) return nullptr;
  for (size_t i = keys.size(); i-- > 0;)
    if (keys[i] == key) return &items[i];
  return nullptr;
}

namespace {

int Hex4(const char* p, size_t avail) {
  if (avail < 4) return -1;
  int v = 0;
  for (int k = 0; k < 4; k++) {
    char c = p[k];
    int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
    if (d < 0) return -1;
    v = v * 16 + d;
  }
  return v;
}

class Reader {
 public:
  Reader(const char* d, size_t n, size_t pos, const ParseOptions& o, RepairList* r)
      : d_(d), n_(n), pos_(pos), opts_(o), repairs_(r) {}
  size_t pos() const { return pos_; }
  void Ws() {
    while (pos_ < n_ && IsJsonWs(static_cast<unsigned char>(d_[pos_]))) pos_++;
  }

  bool Value(int depth, JValue* out) {
    if (depth > kMaxDepth) return false;
    Ws();
    if (pos_ >= n_) return false;
    char c = d_[pos_];
    if (c == '{') return Object(depth, out);
    if (c == '[') return Array(depth, out);
    if (c == '"' || c == '\'') {
      out->kind = JValue::Kind::kString;
      return String(&out->str, true);
    }
    if (c == '-' || (c >= '0' && c <= '9')) return Number(out);
    struct Lit { const char* w; JValue::Kind k; bool py; };
    static const Lit kLits[] = {
        {"true", JValue::Kind::kTrue, false},  {"false", JValue::Kind::kFalse, false}, {"null", JValue::Kind::kNull, false},
        {"True", JValue::Kind::kTrue, true},   {"False", JValue::Kind::kFalse, true},  {"None", JValue::Kind::kNull, true},
    };
    for (const Lit& l : kLits) {
      size_t len = std::strlen(l.w);
      if (n_ - pos_ >= len && std::memcmp(d_ + pos_, l.w, len) == 0) {
        if (l.py && !Repaired(Repair::kPythonLiterals)) return false;
        pos_ += len;
        out->kind = l.k;
        return true;
      }
    }
    return false;
  }

  // `value`: a string value (not a key), where an unescaped inner `"` that
  // cannot end the string is kept (repair unescaped_quote; docs/extract.md).
  bool String(std::string* out, bool value) {
    char quote = d_[pos_];
    if (quote == '\'' && !Repaired(Repair::kSingleQuotes)) return false;
    size_t i = ++pos_;
    size_t from = i;
    for (;;) {
      if (i >= n_) return false;
      unsigned char c = static_cast<unsigned char>(d_[i]);
      if (c == static_cast<unsigned char>(quote)) {
        if (value && quote == '"' && !opts_.strict && !CanEndString(i + 1)) {
          repairs_->Add(Repair::kUnescapedQuote);
          i++;
          continue;
        }
        out->append(d_ + from, i - from);
        pos_ = i + 1;
        return true;
      }
      if (c < 0x20) {
        if (!Repaired(Repair::kRawNewline)) return false;
        i++;
        continue;
      }
      if (c != '\\') {
        i++;
        continue;
      }
      out->append(d_ + from, i - from);
      if (i + 1 >= n_) return false;
      char e = d_[i + 1];
      i += 2;
      switch (e) {
        case '"': out->push_back('"'); break;
        case '\\': out->push_back('\\'); break;
        case '/': out->push_back('/'); break;
        case 'b': out->push_back('\b'); break;
        case 'f': out->push_back('\f'); break;
        case 'n': out->push_back('\n'); break;
        case 'r': out->push_back('\r'); break;
        case 't': out->push_back('\t'); break;
        case '\'':
          if (quote != '\'') return false;
          out->push_back('\'');
          break;
        case 'u': {
          int hi = Hex4(d_ + i, n_ - i);
          if (hi < 0) return false;
          i += 4;
          if (hi >= 0xD800 && hi <= 0xDBFF && i + 1 < n_ && d_[i] == '\\' && d_[i + 1] == 'u') {
            int lo = Hex4(d_ + i + 2, n_ - i - 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              AppendCodePoint(*out, 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00));
              i += 6;
              break;
            }
          }
          AppendCodePoint(*out, static_cast<uint32_t>(hi));
          break;
        }
        default:
          return false;
      }
      from = i;
    }
  }

 private:
  // Whether a `"` just before d_[i] could close a string: the next
  // non-whitespace byte may follow a string (or a missing comma: `"`, `{`,
  // `[`), or the text ends there.
  bool CanEndString(size_t i) const {
    while (i < n_ && IsJsonWs(static_cast<unsigned char>(d_[i]))) i++;
    if (i >= n_) return true;
    switch (d_[i]) {
      case ',': case ':': case '}': case ']': case '"': case '{': case '[': return true;
      default: return false;
    }
  }

  bool Repaired(Repair r) {
    if (opts_.strict) return false;
    repairs_->Add(r);
    return true;
  }

  bool Digits() {
    size_t s = pos_;
    while (pos_ < n_ && d_[pos_] >= '0' && d_[pos_] <= '9') pos_++;
    return pos_ > s;
  }
  static bool IsDigit(char c) { return c >= '0' && c <= '9'; }

  // Same greedy grammar as the twin's /-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/y.
  bool Number(JValue* out) {
    size_t s = pos_;
    if (d_[pos_] == '-') pos_++;
    if (pos_ >= n_ || !IsDigit(d_[pos_])) return false;
    if (d_[pos_] == '0') pos_++;
    else Digits();
    if (pos_ + 1 < n_ && d_[pos_] == '.' && IsDigit(d_[pos_ + 1])) {
      pos_++;
      Digits();
    }
    if (pos_ < n_ && (d_[pos_] == 'e' || d_[pos_] == 'E')) {
      size_t q = pos_ + 1;
      if (q < n_ && (d_[q] == '+' || d_[q] == '-')) q++;
      if (q < n_ && IsDigit(d_[q])) {
        pos_ = q;
        Digits();
      }
    }
    out->kind = JValue::Kind::kNumber;
    out->str.assign(d_ + s, pos_ - s);
    return true;
  }

  // After a member or element: 1 = container closed, 0 = another follows, -1 = error.
  int CloseOrComma(char close) {
    Ws();
    if (pos_ >= n_) return EofClose() ? 1 : -1;
    char c = d_[pos_];
    if (c == close) {
      pos_++;
      return 1;
    }
    if (c != ',') return -1;
    pos_++;
    Ws();
    if (pos_ >= n_) {
      if (!opts_.eof_close || !Repaired(Repair::kTrailingComma)) return -1;
      return EofClose() ? 1 : -1;
    }
    if (d_[pos_] == close) {
      if (!Repaired(Repair::kTrailingComma)) return -1;
      pos_++;
      return 1;
    }
    return 0;
  }
  bool EofClose() { return opts_.eof_close && Repaired(Repair::kMissingBrace); }

  bool Object(int depth, JValue* out) {
    pos_++;
    out->kind = JValue::Kind::kObject;
    Ws();
    if (pos_ >= n_) return EofClose();
    if (d_[pos_] == '}') {
      pos_++;
      return true;
    }
    for (;;) {
      Ws();
      if (pos_ >= n_ || (d_[pos_] != '"' && d_[pos_] != '\'')) return false;
      out->keys.emplace_back();
      if (!String(&out->keys.back(), false)) return false;
      Ws();
      if (pos_ >= n_ || d_[pos_] != ':') return false;
      pos_++;
      out->items.emplace_back();
      if (!Value(depth + 1, &out->items.back())) return false;
      int r = CloseOrComma('}');
      if (r != 0) return r == 1;
    }
  }

  bool Array(int depth, JValue* out) {
    pos_++;
    out->kind = JValue::Kind::kArray;
    Ws();
    if (pos_ >= n_) return EofClose();
    if (d_[pos_] == ']') {
      pos_++;
      return true;
    }
    for (;;) {
      out->items.emplace_back();
      if (!Value(depth + 1, &out->items.back())) return false;
      int r = CloseOrComma(']');
      if (r != 0) return r == 1;
    }
  }

  const char* d_;
  size_t n_;
  size_t pos_;
  const ParseOptions& opts_;
  RepairList* repairs_;
};

void SerializeString(const std::string& s, std::string& out) {
  static const char kHex[] = "0123456789abcdef";
  out.push_back('"');
  for (unsigned char c : s) {
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\b': out += "\\b"; break;
      case '\f': out += "\\f"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += "\\u00";
          out.push_back(kHex[c >> 4]);
          out.push_back(kHex[c & 15]);
        } else {
          out.push_back(static_cast<char>(c));
        }
    }
  }
  out.push_back('"');
}

}  // namespace

bool ParseLenient(const char* data, size_t n, size_t start, const ParseOptions& opts,
                  JValue* out, RepairList* repairs, size_t* end) {
  Reader r(data, n, start, opts, repairs);
  if (!r.Value(0, out)) return false;
  if (opts.whole) {
    r.Ws();
    if (r.pos() != n) return false;
  }
  if (end) *end = r.pos();
  return true;
}

void Serialize(const JValue& v, std::string& out) {
  switch (v.kind) {
    case JValue::Kind::kNull: out += "null"; return;
    case JValue::Kind::kTrue: out += "true"; return;
    case JValue::Kind::kFalse: out += "false"; return;
    case JValue::Kind::kNumber: out += v.str; return;
    case JValue::Kind::kString: SerializeString(v.str, out); return;
    case JValue::Kind::kArray:
      out.push_back('[');
      for (size_t i = 0; i < v.items.size(); i++) {
        if (i) out.push_back(',');
        Serialize(v.items[i], out);
      }
      out.push_back(']');
      return;
    case JValue::Kind::kObject:
      out.push_back('{');
      for (size_t i = 0; i < v.items.size(); i++) {
        if (i) out.push_back(',');
        SerializeString(v.keys[i], out);
        out.push_back(':');
        Serialize(v.items[i], out);
      }
      out.push_back('}');
      return;
  }
}

}  // namespace tce
