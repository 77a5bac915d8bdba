#include "core/answer_lines.h"

#include <cstring>

namespace tce {

namespace {

bool Letter(char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }
bool Blank(char c) { return c == ' ' || c == '\t'; }
bool Emph(char c) { return c == '*' || c == '_'; }

// `[ \t]*[*_]{0,2}[ \t]*` from i; returns where it stops. The three classes
// are disjoint, so the greedy reading is the only one.
size_t BlankEmphBlank(const char* s, size_t i, size_t n) {
  while (i < n && Blank(s[i])) i++;
  for (int k = 0; k < 2 && i < n && Emph(s[i]); k++) i++;
  while (i < n && Blank(s[i])) i++;
  return i;
}

// Does s[0, n) match `[ \t]*(?:[-*+>]|\d+[.)]|#+)?[ \t]*[*_]{0,2}[ \t]*` whole?
bool Lead(const char* s, size_t n) {
  size_t j = 0;
  while (j < n && Blank(s[j])) j++;
  if (BlankEmphBlank(s, j, n) == n) return true;  // no marker
  if (j >= n) return false;
  char c = s[j];
  if (c == '-' || c == '*' || c == '+' || c == '>') {
    if (BlankEmphBlank(s, j + 1, n) == n) return true;
  }
  if (c >= '0' && c <= '9') {
    size_t k = j;
    while (k < n && s[k] >= '0' && s[k] <= '9') k++;
    if (k < n && (s[k] == '.' || s[k] == ')') && BlankEmphBlank(s, k + 1, n) == n) return true;
  }
  if (c == '#') {
    size_t k = j;
    while (k < n && s[k] == '#') k++;
    if (BlankEmphBlank(s, k, n) == n) return true;
  }
  return false;
}

// One line against answer.ts's LINE_RE.
bool Line(const char* s, size_t n, size_t base, AnswerLine* out) {
  size_t a = 0;
  while (a < n && !Letter(s[a])) a++;
  if (a >= n || !Lead(s, a)) return false;
  // The label is lazy: the shortest run of [A-Za-z _] followed by
  // `[ \t]*[*_]{0,2}[ \t]*:`.
  size_t e = a + 1, colon = 0;
  for (;;) {
    size_t q = BlankEmphBlank(s, e, n);
    if (q < n && s[q] == ':') {
      colon = q;
      break;
    }
    if (e >= n) return false;
    char c = s[e];
    if (!(Letter(c) || c == ' ' || c == '_')) return false;
    e++;
  }
  size_t le = e;
  while (le > a && s[le - 1] == ' ') le--;  // trim (the label starts with a letter)
  out->label.clear();
  for (size_t i = a; i < le; i++) {
    char c = s[i];
    if (c == ' ') {
      if (s[i - 1] != ' ') out->label.push_back('_');  // a run of spaces is one '_'
    } else {
      out->label.push_back(c >= 'a' && c <= 'z' ? static_cast<char>(c - 32) : c);
    }
  }
  size_t v = colon + 1;
  while (v < n && Blank(s[v])) v++;
  for (int k = 0; k < 2 && v < n && Emph(s[v]); k++) v++;
  out->at = base + v;
  out->value.clear();
  for (size_t i = v; i < n;) {
    if (i + 1 < n && s[i] == s[i + 1] && Emph(s[i])) {
      i += 2;
      continue;
    }
    out->value.push_back(s[i++]);
  }
  size_t b = 0, t = out->value.size();
  while (b < t && Blank(out->value[b])) b++;
  while (t > b && Blank(out->value[t - 1])) t--;
  out->value = out->value.substr(b, t - b);
  return true;
}

}  // namespace

bool ScanAnswerLines(const std::string& text, std::vector<AnswerLine>* out) {
  const char* s = text.data();
  const size_t n = text.size();
  // Branch-free so that it vectorises: long prose costs a fraction of a ns per byte.
  unsigned bad = 0;
  for (size_t i = 0; i < n; i++) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    bad |= static_cast<unsigned>(c >= 0x7F) | (static_cast<unsigned>(c < 0x20) & static_cast<unsigned>(c != '\t') & static_cast<unsigned>(c != '\n'));
  }
  if (bad) return false;
  AnswerLine line;
  size_t from = 0;
  for (;;) {
    const char* nlp = static_cast<const char*>(std::memchr(s + from, '\n', n - from));
    size_t nl = nlp ? static_cast<size_t>(nlp - s) : n;
    // Every labelled line has a colon; most prose lines have none.
    if (std::memchr(s + from, ':', nl - from) && Line(s + from, nl - from, from, &line)) out->push_back(line);
    if (nl >= n) return true;
    from = nl + 1;
  }
}

}  // namespace tce
