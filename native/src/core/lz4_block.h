// LZ4 blocks (https://github.com/lz4/lz4/blob/dev/doc/lz4_Block_format.md)
// for the Arrow IPC buffer compression of the run folders: the same greedy
// single-probe compressor as the TypeScript codec (src/util/lz4.ts), so both
// give the same bytes, and a decoder that checks every read and write
// against its bounds (a damaged file is an error, never memory outside).
#pragma once
#include <cstddef>
#include <cstdint>

namespace tce {

/** Compresses src[0, n) as one block into dst[0, cap); returns the bytes
 * written, or -1 when they would not fit in cap. Not reentrant per thread
 * (a thread_local match table). */
int64_t Lz4CompressBlock(const uint8_t* src, size_t n, uint8_t* dst, size_t cap);

enum class Lz4Decoded { kOk, kNoRoom, kMalformed };

/** Decodes the block src[0, n) into dst at *at (matches may reach back to
 * dst[0], as in the TypeScript decoder), advancing *at. kNoRoom: dst is too
 * small (*at unchanged; retry with a larger dst); kMalformed: *why says how. */
Lz4Decoded Lz4DecodeBlock(const uint8_t* src, size_t n, uint8_t* dst, size_t cap, size_t* at, const char** why);

}  // namespace tce
