#include "core/sse_event.h"

#include <cstring>
#include <vector>

#include "core/utf8.h"

namespace tce {

// Empties a value but keeps its buffers: one event after another reuses them.
static void Reset(JValue* v) {
  v->kind = JValue::Kind::kNull;
  v->str.clear();
  v->items.clear();
  v->keys.clear();
}

void SseEvent::Clear() {
  is_object = has_error_key = object_is_error = false;
  Reset(&error);
  Reset(&message);
  Reset(&type);
  Reset(&code);
  Reset(&usage);
  has_finish = has_content = has_reasoning_key = has_reasoning = has_reasoning_content = false;
  finish_reason.clear();
  content.clear();
  reasoning.clear();
  reasoning_content.clear();
  Reset(&tool_calls);
  content_begin = content_end = 0;
}

namespace {

// Bytes that end the fast path inside a string: '"', '\\', controls, non-ASCII.
struct SpecialTable {
  bool v[256];
  constexpr SpecialTable() : v() {
    for (int c = 0; c < 256; c++) v[c] = c == '"' || c == '\\' || c < 0x20 || c >= 0x80;
  }
  constexpr bool operator[](unsigned char c) const { return v[c]; }
};
constexpr SpecialTable kSpecial;

/** A key as written; escaped keys are decoded into `decoded`. */
struct Key {
  const char* p = nullptr;
  size_t n = 0;
  std::string decoded;
  template <size_t N>
  bool Is(const char (&lit)[N]) const {
    return n == N - 1 && std::memcmp(p, lit, N - 1) == 0;
  }
};

class Cursor {
 public:
  Cursor(const char* d, size_t n, size_t at = 0) : d_(d), n_(n), i_(at) {}
  size_t Pos() const { return i_; }
  bool AtEnd() { Ws(); return i_ >= n_; }
  void Ws() {
    while (i_ < n_ && IsJsonWs(static_cast<unsigned char>(d_[i_]))) i_++;
  }
  char Peek() { Ws(); return i_ < n_ ? d_[i_] : 0; }
  bool Eat(char c) {
    if (Peek() != c) return false;
    i_++;
    return true;
  }

  // Strict JSON string; `out` may be null (validate only). Raw bytes that are
  // not UTF-8 become U+FFFD, as TextDecoder makes them before JSON.parse.
  bool String(std::string* out) {
    if (Peek() != '"') return false;
    size_t i = ++i_;
    size_t from = i;
    bool ascii = true;
    for (;;) {
      // Plain bytes are the common case: skip them in a tight loop.
      while (i < n_ && !kSpecial[static_cast<unsigned char>(d_[i])]) i++;
      if (i >= n_) return false;
      unsigned char c = static_cast<unsigned char>(d_[i]);
      if (c == '"') {
        if (out) Flush(out, from, i, ascii);
        i_ = i + 1;
        return true;
      }
      if (c < 0x20) return false;
      if (c >= 0x80) ascii = false;
      if (c != '\\') {
        i++;
        continue;
      }
      if (out) Flush(out, from, i, ascii);
      ascii = true;
      if (i + 1 >= n_) return false;
      char e = d_[i + 1];
      i += 2;
      char simple = 0;
      switch (e) {
        case '"': simple = '"'; break;
        case '\\': simple = '\\'; break;
        case '/': simple = '/'; break;
        case 'b': simple = '\b'; break;
        case 'f': simple = '\f'; break;
        case 'n': simple = '\n'; break;
        case 'r': simple = '\r'; break;
        case 't': simple = '\t'; break;
        case 'u': {
          int hi = Hex4(i);
          if (hi < 0) return false;
          i += 4;
          uint32_t cp = static_cast<uint32_t>(hi);
          if (hi >= 0xD800 && hi <= 0xDBFF && i + 1 < n_ && d_[i] == '\\' && d_[i + 1] == 'u') {
            int lo = Hex4(i + 2);
            if (lo >= 0xDC00 && lo <= 0xDFFF) {
              cp = 0x10000 + ((hi - 0xD800) << 10) + (lo - 0xDC00);
              i += 6;
            }
          }
          if (out) AppendCodePoint(*out, cp);
          break;
        }
        default:
          return false;
      }
      if (simple && out) out->push_back(simple);
      from = i;
    }
  }

  bool Number(double* out) {
    Ws();
    size_t s = i_;
    if (i_ < n_ && d_[i_] == '-') i_++;
    if (i_ >= n_ || !Digit(d_[i_])) return false;
    if (d_[i_] == '0') i_++;
    else while (i_ < n_ && Digit(d_[i_])) i_++;
    if (i_ < n_ && d_[i_] == '.') {
      i_++;
      if (i_ >= n_ || !Digit(d_[i_])) return false;
      while (i_ < n_ && Digit(d_[i_])) i_++;
    }
    if (i_ < n_ && (d_[i_] == 'e' || d_[i_] == 'E')) {
      i_++;
      if (i_ < n_ && (d_[i_] == '+' || d_[i_] == '-')) i_++;
      if (i_ >= n_ || !Digit(d_[i_])) return false;
      while (i_ < n_ && Digit(d_[i_])) i_++;
    }
    if (out) *out = std::strtod(std::string(d_ + s, i_ - s).c_str(), nullptr);
    return true;
  }

  bool Literal() {
    Ws();
    size_t left = n_ - i_;
    const char* p = d_ + i_;
    size_t len = left >= 4 && std::memcmp(p, "true", 4) == 0 ? 4 : left >= 4 && std::memcmp(p, "null", 4) == 0 ? 4 : left >= 5 && std::memcmp(p, "false", 5) == 0 ? 5 : 0;
    i_ += len;
    return len > 0;
  }

  // Validates and skips one value without recursion (no depth limit, like
  // JSON.parse for the nesting a server can send).
  bool Skip() {
    std::vector<char> stack;
    for (;;) {
      // expecting a value
      char c = Peek();
      if (c == '{' || c == '[') {
        i_++;
        if (Eat(c == '{' ? '}' : ']')) {
          if (!AfterValue(stack)) return false;
        } else {
          stack.push_back(c);
          if (c == '{' && !Key()) return false;
          continue;
        }
      } else if (c == '"') {
        if (!String(nullptr) || !AfterValue(stack)) return false;
      } else if (c == '-' || Digit(c)) {
        if (!Number(nullptr) || !AfterValue(stack)) return false;
      } else {
        if (!Literal() || !AfterValue(stack)) return false;
      }
      if (stack.empty()) return true;
    }
  }

  // A member key: a view into the payload unless it holds escapes or
  // non-ASCII bytes (then decoded like any string).
  bool ReadKey(Key* k) {
    if (Peek() != '"') return false;
    size_t i = i_ + 1;
    while (i < n_ && !kSpecial[static_cast<unsigned char>(d_[i])]) i++;
    if (i < n_ && d_[i] == '"') {
      k->p = d_ + i_ + 1;
      k->n = i - i_ - 1;
      i_ = i + 1;
      return true;
    }
    k->decoded.clear();
    if (!String(&k->decoded)) return false;
    k->p = k->decoded.data();
    k->n = k->decoded.size();
    return true;
  }

  // Reads a value into a tree (strict). Used for the rare fields only.
  bool Tree(JValue* out) {
    Ws();
    ParseOptions o;
    o.whole = false;
    o.strict = true;
    RepairList r;
    size_t end = 0;
    if (!ParseLenient(d_, n_, i_, o, out, &r, &end)) {
      // Deeper than the tree allows but maybe valid JSON: keep the event valid.
      Reset(out);
      return Skip();
    }
    i_ = end;
    return true;
  }

 private:
  static bool Digit(char c) { return c >= '0' && c <= '9'; }
  int Hex4(size_t at) {
    if (at + 4 > n_) return -1;
    int v = 0;
    for (size_t k = 0; k < 4; k++) {
      char c = d_[at + k];
      int d = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
      if (d < 0) return -1;
      v = v * 16 + d;
    }
    return v;
  }
  void Flush(std::string* out, size_t from, size_t to, bool ascii) {
    if (ascii) out->append(d_ + from, to - from);
    else AppendSanitized(*out, d_ + from, to - from);
  }
  bool Key() {
    if (!String(nullptr)) return false;
    return Eat(':');
  }
  // After a value inside containers: ',' (then a key in objects) or a close.
  bool AfterValue(std::vector<char>& stack) {
    while (!stack.empty()) {
      char top = stack.back();
      if (Eat(',')) return top == '{' ? Key() : true;
      if (!Eat(top == '{' ? '}' : ']')) return false;
      stack.pop_back();
    }
    return true;
  }

  const char* d_;
  size_t n_;
  size_t i_ = 0;
};

// Walks an object's members, calling on(key) positioned at each value.
template <typename F>
bool Members(Cursor& c, Key& key, F on) {
  if (!c.Eat('{')) return false;
  if (c.Eat('}')) return true;
  for (;;) {
    if (!c.ReadKey(&key) || !c.Eat(':')) return false;
    if (!on()) return false;
    if (c.Eat(',')) continue;
    return c.Eat('}');
  }
}

bool Delta(Cursor& c, SseEvent* ev) {
  Key key;
  return Members(c, key, [&]() {
    if (key.Is("content")) {
      ev->has_content = false;
      ev->content.clear();
      ev->content_end = 0;
      if (c.Peek() != '"') return c.Skip();
      ev->has_content = true;
      ev->content_begin = c.Pos() + 1;
      if (!c.String(&ev->content)) return false;
      ev->content_end = c.Pos() - 1;
      return true;
    }
    if (key.Is("reasoning") || key.Is("reasoning_content")) {
      bool main = key.Is("reasoning");
      if (main) ev->has_reasoning_key = true;
      bool& has = main ? ev->has_reasoning : ev->has_reasoning_content;
      std::string& val = main ? ev->reasoning : ev->reasoning_content;
      has = false;
      val.clear();
      if (c.Peek() != '"') return c.Skip();
      has = true;
      return c.String(&val);
    }
    if (key.Is("tool_calls")) {
      Reset(&ev->tool_calls);
      return c.Tree(&ev->tool_calls);
    }
    return c.Skip();
  });
}

bool Choice(Cursor& c, SseEvent* ev) {
  Key key;
  return Members(c, key, [&]() {
    if (key.Is("finish_reason")) {
      ev->has_finish = false;
      ev->finish_reason.clear();
      if (c.Peek() != '"') return c.Skip();
      ev->has_finish = true;
      return c.String(&ev->finish_reason);
    }
    if (key.Is("delta")) {
      ev->has_content = ev->has_reasoning_key = ev->has_reasoning = ev->has_reasoning_content = false;
      ev->content.clear();
      ev->content_end = 0;
      ev->reasoning.clear();
      ev->reasoning_content.clear();
      Reset(&ev->tool_calls);
      if (c.Peek() != '{') return c.Skip();
      return Delta(c, ev);
    }
    return c.Skip();
  });
}

bool Choices(Cursor& c, SseEvent* ev) {
  ev->has_finish = ev->has_content = ev->has_reasoning_key = ev->has_reasoning = ev->has_reasoning_content = false;
  ev->finish_reason.clear();
  ev->content.clear();
  ev->content_end = 0;
  ev->reasoning.clear();
  ev->reasoning_content.clear();
  Reset(&ev->tool_calls);
  if (c.Peek() != '[') return c.Skip();
  c.Eat('[');
  if (c.Eat(']')) return true;
  bool first = true;
  for (;;) {
    bool ok = first && c.Peek() == '{' ? Choice(c, ev) : c.Skip();
    if (!ok) return false;
    first = false;
    if (c.Eat(',')) continue;
    return c.Eat(']');
  }
}

}  // namespace

bool ParseSseEvent(const char* data, size_t n, SseEvent* ev) {
  ev->Clear();
  Cursor c(data, n);
  if (c.Peek() != '{') {
    if (!c.Skip()) return false;
    return c.AtEnd();
  }
  ev->is_object = true;
  Key key;
  bool ok = Members(c, key, [&]() {
    if (key.Is("choices")) return Choices(c, ev);
    if (key.Is("error")) {
      ev->has_error_key = true;
      Reset(&ev->error);
      return c.Tree(&ev->error);
    }
    if (key.Is("object")) {
      ev->object_is_error = false;
      if (c.Peek() != '"') return c.Skip();
      Key v;  // a view: "chat.completion.chunk" on every event costs no allocation
      if (!c.ReadKey(&v)) return false;
      ev->object_is_error = v.Is("error");
      return true;
    }
    if (key.Is("usage")) { Reset(&ev->usage); return c.Tree(&ev->usage); }
    if (key.Is("message")) { Reset(&ev->message); return c.Tree(&ev->message); }
    if (key.Is("type")) { Reset(&ev->type); return c.Tree(&ev->type); }
    if (key.Is("code")) { Reset(&ev->code); return c.Tree(&ev->code); }
    return c.Skip();
  });
  return ok && c.AtEnd();
}

namespace {

// An event whose only effect is its content string: nothing else in it can
// differ between two payloads that share the bytes around that string.
bool ContentOnly(const SseEvent& e) {
  return e.is_object && e.has_content && e.content_end > 0 && !e.has_error_key && !e.object_is_error &&
         e.usage.kind == JValue::Kind::kNull && e.message.kind == JValue::Kind::kNull &&
         e.type.kind == JValue::Kind::kNull && e.code.kind == JValue::Kind::kNull && !e.has_finish &&
         !e.has_reasoning_key && !e.has_reasoning_content && e.tool_calls.kind == JValue::Kind::kNull;
}

}  // namespace

bool ParseSseEvent(const char* data, size_t n, SseEvent* ev, SseTemplate* tmpl) {
  const size_t np = tmpl->prefix.size(), ns = tmpl->suffix.size();
  if (tmpl->ready && n >= np + ns + 1 && std::memcmp(data, tmpl->prefix.data(), np) == 0) {
    // The prefix ends with the opening quote: read the string from there and
    // accept only if the suffix follows it byte for byte.
    ev->Clear();
    Cursor c(data, n, np - 1);
    if (c.String(&ev->content) && n - c.Pos() == ns && std::memcmp(data + c.Pos(), tmpl->suffix.data(), ns) == 0) {
      ev->is_object = ev->has_content = true;
      ev->content_begin = np;
      ev->content_end = c.Pos() - 1;
      return true;
    }
  }
  if (!ParseSseEvent(data, n, ev)) return false;
  if (ContentOnly(*ev)) {
    tmpl->prefix.assign(data, ev->content_begin);
    tmpl->suffix.assign(data + ev->content_end + 1, n - ev->content_end - 1);
    tmpl->ready = true;
  }
  return true;
}

}  // namespace tce
