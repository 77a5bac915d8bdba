// UTF-8 helpers shared by the core. Invalid input is replaced the way the
// WHATWG decoder (TextDecoder, and V8) does it, one U+FFFD per maximal
// subpart, so the C++ engine and the TypeScript twin see the same text.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string>

namespace tce {

/** Appends [p, p+n) to out with invalid sequences replaced by U+FFFD. */
void AppendSanitized(std::string& out, const char* p, size_t n);

/** Appends the code point as UTF-8 (surrogates become U+FFFD). */
void AppendCodePoint(std::string& out, uint32_t cp);

}  // namespace tce
