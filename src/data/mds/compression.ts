// Whole-shard compression as the reference library applies it: the raw
// shard file is one blob compressed with the codec named by the part of
// `compression` before ':'. zstd decodes with fzstd (pure JS; Node 20 has no
// zstd in zlib); gz and br come from node:zlib. bz2 and snappy need decoders
// this package does not carry, so they fail naming the codec.
import zlib from 'node:zlib';
import { decompress as zstdDecompress } from 'fzstd';

export const DECODABLE_CODECS = ['zstd', 'gz', 'br'] as const;
export type Codec = (typeof DECODABLE_CODECS)[number];

export function codecName(compression: string): string {
  return compression.split(':')[0]!;
}

export class UnsupportedCodecError extends Error {}

export function decompressShard(compression: string, data: Uint8Array): Uint8Array {
  const name = codecName(compression);
  switch (name) {
    case 'zstd': return zstdDecompress(data);
    case 'gz': return zlib.gunzipSync(data);
    case 'br': return zlib.brotliDecompressSync(data);
    default:
      throw new UnsupportedCodecError(`compression '${compression}' cannot be decoded here (supported: ${DECODABLE_CODECS.join(', ')})`);
  }
}

/** A zstd frame made of raw (stored) blocks: valid zstd that any decoder
 * reads, without a zstd encoder in the dependency tree. It does not shrink
 * the data; it exists so compressed datasets can be written and tested. */
export function zstdStoredFrame(data: Uint8Array): Uint8Array {
  const MAX_BLOCK = 128 * 1024;
  const blocks = Math.max(1, Math.ceil(data.length / MAX_BLOCK));
  // Frame header: magic, descriptor (single segment, 8-byte content size), size.
  const out = new Uint8Array(4 + 1 + 8 + blocks * 3 + data.length);
  const dv = new DataView(out.buffer);
  dv.setUint32(0, 0xfd2fb528, true);
  out[4] = 0b11100000; // FCS flag 3 (8 bytes), single segment, no checksum, no dict
  dv.setBigUint64(5, BigInt(data.length), true);
  let p = 13;
  for (let b = 0; b < blocks; b++) {
    const chunk = data.subarray(b * MAX_BLOCK, Math.min(data.length, (b + 1) * MAX_BLOCK));
    const last = b === blocks - 1 ? 1 : 0;
    const header = last | (0 << 1) | (chunk.length << 3); // block type 0 = raw
    out[p] = header & 0xff; out[p + 1] = (header >> 8) & 0xff; out[p + 2] = (header >> 16) & 0xff;
    out.set(chunk, p + 3);
    p += 3 + chunk.length;
  }
  return out;
}

export function compressShard(compression: string, data: Uint8Array): Uint8Array {
  const [name, level] = compression.split(':');
  const lvl = level === undefined ? undefined : Number(level);
  switch (name) {
    case 'zstd': return zstdStoredFrame(data);
    case 'gz': return zlib.gzipSync(data, { level: lvl ?? 9 });
    case 'br': return zlib.brotliCompressSync(data, { params: { [zlib.constants.BROTLI_PARAM_QUALITY]: lvl ?? 11 } });
    default: throw new UnsupportedCodecError(`compression '${compression}' cannot be written here (supported: ${DECODABLE_CODECS.join(', ')})`);
  }
}
