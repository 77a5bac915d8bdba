// libFuzzer target for the HTTP/1.1 response framer (core/http_response.cc),
// built with ASan+UBSan by `FUZZ_TARGET=http_fuzzer npm run fuzz:extractor`.
// Besides memory errors it checks that bytes split anywhere frame exactly as
// the same bytes fed whole: the same state, status, body, keep-alive and error.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "core/http_response.h"

namespace {

struct Collect : tce::HttpBodySink {
  std::string body;
  void Body(const char* p, size_t n) override { body.append(p, n); }
};

struct Outcome {
  tce::HttpResponse::State state;
  int status;
  bool keep_alive;
  tce::HttpError error;
  std::string body;
  bool operator==(const Outcome& o) const {
    return state == o.state && status == o.status && keep_alive == o.keep_alive && error == o.error && body == o.body;
  }
};

Outcome Run(const char* p, size_t n, unsigned split, bool eof) {
  tce::HttpResponse r;
  Collect c;
  size_t pos = 0;
  while (pos < n) {
    size_t len = split == 0 ? n : 1 + (split * 5 + pos) % 11;
    if (len > n - pos) len = n - pos;
    r.Read(p + pos, len, &c);
    pos += len;
  }
  if (eof) r.Eof();
  return Outcome{r.state(), r.status(), r.state() == tce::HttpResponse::State::kDone && r.keep_alive(), r.error(), c.body};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 1) return 0;
  // Byte 0: bit 0 ends with the peer's close, the rest seeds the splits.
  const bool eof = data[0] & 1;
  const unsigned split = 1 + (data[0] >> 1);
  const char* p = reinterpret_cast<const char*>(data + 1);
  Outcome whole = Run(p, size - 1, 0, eof);
  Outcome parts = Run(p, size - 1, split, eof);
  if (!(whole == parts)) std::abort();
  return 0;
}
