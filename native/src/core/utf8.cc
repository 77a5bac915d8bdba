#include "core/utf8.h"

namespace tce {

static const char kReplacement[] = "\xEF\xBF\xBD";

void AppendCodePoint(std::string& out, uint32_t cp) {
  if (cp >= 0xD800 && cp <= 0xDFFF) cp = 0xFFFD;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

void AppendSanitized(std::string& out, const char* data, size_t n) {
  const auto* p = reinterpret_cast<const unsigned char*>(data);
  size_t i = 0;
  size_t run = 0;  // start of the current run of bytes that are copied as is
  while (i < n) {
    unsigned char b = p[i];
    if (b < 0x80) {
      i++;
      continue;
    }
    size_t need;
    unsigned char lo = 0x80, hi = 0xBF;
    if (b >= 0xC2 && b <= 0xDF) {
      need = 1;
    } else if (b >= 0xE0 && b <= 0xEF) {
      need = 2;
      if (b == 0xE0) lo = 0xA0;
      if (b == 0xED) hi = 0x9F;
    } else if (b >= 0xF0 && b <= 0xF4) {
      need = 3;
      if (b == 0xF0) lo = 0x90;
      if (b == 0xF4) hi = 0x8F;
    } else {
      out.append(data + run, i - run);
      out.append(kReplacement, 3);
      run = ++i;
      continue;
    }
    size_t j = i + 1;
    size_t seen = 0;
    while (seen < need && j < n && p[j] >= lo && p[j] <= hi) {
      lo = 0x80;
      hi = 0xBF;
      j++;
      seen++;
    }
    if (seen == need) {
      i = j;
      continue;
    }
    // A maximal subpart of an ill-formed sequence: one U+FFFD, then resume at
    // the byte that broke it.
    out.append(data + run, i - run);
    out.append(kReplacement, 3);
    run = i = j;
  }
  out.append(data + run, n - run);
}

}  // namespace tce
