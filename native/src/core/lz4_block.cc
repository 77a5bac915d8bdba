#include "core/lz4_block.h"

#include <cstring>
#include <vector>

namespace tce {
namespace {

constexpr size_t kMinMatch = 4;
constexpr size_t kMfLimit = 12;
constexpr size_t kLastLiterals = 5;
constexpr int kHashBits = 16;
constexpr uint32_t kPrime = 2654435761u;

uint32_t Read32(const uint8_t* p) {
  uint32_t v;
  std::memcpy(&v, p, 4);  // little-endian hosts only, as the TypeScript codec's byte order
  return v;
}

// One match table per thread for every block: an entry holds a position
// counted from `epoch` (the positions handed out before this block), so an
// entry left by an earlier block reads as before the block's start, exactly
// as a cleared one would, without clearing 256 KB per (often tiny) buffer.
struct MatchTable {
  std::vector<uint32_t> slot = std::vector<uint32_t>(size_t{1} << kHashBits, 0);
  uint32_t epoch = 0;
};

thread_local MatchTable table;

class Out {
 public:
  Out(uint8_t* p, size_t cap) : p_(p), cap_(cap) {}
  bool Room(size_t k) const { return cap_ - n_ >= k; }
  void Byte(uint8_t b) { p_[n_++] = b; }
  void Bytes(const uint8_t* s, size_t k) {
    std::memcpy(p_ + n_, s, k);
    n_ += k;
  }
  size_t size() const { return n_; }

 private:
  uint8_t* p_;
  size_t cap_;
  size_t n_ = 0;
};

// A length's extra bytes after the token's 15: runs of 255, then the rest.
bool Length(Out& out, size_t n) {
  if (!out.Room(n / 255 + 1)) return false;
  for (; n >= 255; n -= 255) out.Byte(255);
  out.Byte(static_cast<uint8_t>(n));
  return true;
}

// One sequence: literals, then a match (match 0: the block's last literals).
bool Emit(Out& out, const uint8_t* lit, size_t lit_len, size_t offset, size_t match) {
  size_t ml = match ? match - kMinMatch : 0;
  if (!out.Room(1)) return false;
  out.Byte(static_cast<uint8_t>(((lit_len < 15 ? lit_len : 15) << 4) | (ml < 15 ? ml : 15)));
  if (lit_len >= 15 && !Length(out, lit_len - 15)) return false;
  if (!out.Room(lit_len)) return false;
  out.Bytes(lit, lit_len);
  if (!match) return true;
  if (!out.Room(2)) return false;
  out.Byte(static_cast<uint8_t>(offset & 0xff));
  out.Byte(static_cast<uint8_t>(offset >> 8));
  return ml < 15 || Length(out, ml - 15);
}

}  // namespace

int64_t Lz4CompressBlock(const uint8_t* src, size_t n, uint8_t* dst, size_t cap) {
  MatchTable& t = table;
  if (n >= 0x7fffffff || static_cast<uint64_t>(t.epoch) + n + 1 > 0x7fffffff) {
    std::fill(t.slot.begin(), t.slot.end(), 0);
    t.epoch = 0;
  }
  const uint32_t base = t.epoch + 1;  // slot value of position 0 in this block
  t.epoch += static_cast<uint32_t>(n) + 1;
  Out out(dst, cap);
  size_t anchor = 0;
  size_t i = 0;
  const size_t mf_limit = n > kMfLimit ? n - kMfLimit : 0;
  const size_t match_end = n > kLastLiterals ? n - kLastLiterals : 0;
  while (i < mf_limit) {
    const uint32_t seq = Read32(src + i);
    const uint32_t h = (seq * kPrime) >> (32 - kHashBits);
    const uint32_t prev = t.slot[h];
    t.slot[h] = static_cast<uint32_t>(i) + base;
    // Before `base`: an earlier block's (or no) entry.
    if (prev < base || i - (prev - base) > 0xffff || Read32(src + (prev - base)) != seq) {
      i += 1 + ((i - anchor) >> 6);  // skip faster through data that does not compress
      continue;
    }
    const size_t ref = prev - base;
    size_t m = kMinMatch;
    while (i + m < match_end && src[ref + m] == src[i + m]) m++;
    if (!Emit(out, src + anchor, i - anchor, i - ref, m)) return -1;
    i += m;
    anchor = i;
  }
  if (!Emit(out, src + anchor, n - anchor, 0, 0)) return -1;
  return static_cast<int64_t>(out.size());
}

Lz4Decoded Lz4DecodeBlock(const uint8_t* src, size_t n, uint8_t* dst, size_t cap, size_t* at, const char** why) {
  size_t i = 0;
  size_t d = *at;
  auto length = [&](size_t v, size_t* out) {
    if (v != 15) {
      *out = v;
      return true;
    }
    for (;;) {
      if (i >= n) return false;
      const uint8_t b = src[i++];
      v += b;
      if (b != 255) break;
    }
    *out = v;
    return true;
  };
  while (i < n) {
    const uint8_t token = src[i++];
    size_t lit;
    if (!length(token >> 4, &lit) || lit > n - i) {
      *why = "lz4: literals run past the block";
      return Lz4Decoded::kMalformed;
    }
    if (lit > cap - d) return Lz4Decoded::kNoRoom;
    std::memcpy(dst + d, src + i, lit);
    d += lit;
    i += lit;
    if (i >= n) break;
    if (n - i < 2) {
      *why = "lz4: match offset cut off";
      return Lz4Decoded::kMalformed;
    }
    const size_t offset = src[i] | (static_cast<size_t>(src[i + 1]) << 8);
    i += 2;
    size_t len;
    if (!length(token & 15, &len)) {
      *why = "lz4: match length runs past the block";
      return Lz4Decoded::kMalformed;
    }
    len += kMinMatch;
    if (offset == 0 || offset > d) {
      *why = "lz4: match offset out of range";
      return Lz4Decoded::kMalformed;
    }
    if (len > cap - d) return Lz4Decoded::kNoRoom;
    const uint8_t* from = dst + d - offset;
    if (offset >= len) {
      std::memcpy(dst + d, from, len);
    } else {
      // Overlapping its own output (a run): byte by byte.
      for (size_t k = 0; k < len; k++) dst[d + k] = from[k];
    }
    d += len;
  }
  *at = d;
  return Lz4Decoded::kOk;
}

}  // namespace tce
