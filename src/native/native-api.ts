// Hand-written mirror of the addon's exports (native/src/binding.cc).
// test/10.native-binding.test.ts checks the two stay in step.

/** Opaque, type-tagged engine handle (an N-API External). */
export type NativeEngineHandle = { readonly __tceNativeEngine: unique symbol };

/** Results cross as [all strings back to back, numbers and string lengths];
 * read by src/extract/packed.ts in the order native/src/binding.cc writes them. */
export type NativePacked = [string, Float64Array];

export interface NativeAddon {
  version(): string;
  createEngine(): NativeEngineHandle;
  /** mode 0: SSE body; 1: plain text. Returns the stream handle. */
  open(engine: NativeEngineHandle, mode: 0 | 1, knownTools: readonly string[]): number;
  /** One call for many streams' body chunks: chunk i is data[ends[i-1], ends[i]) for handles[i]. */
  feed(engine: NativeEngineHandle, handles: Uint32Array, data: Uint8Array, ends: Uint32Array, timesMs: Float64Array): void;
  /** Ends the stream and closes its handle. */
  finish(engine: NativeEngineHandle, handle: number): NativePacked;
  close(engine: NativeEngineHandle, handle: number): void;
  /** Per text: content, reasoning, calls. */
  extractTexts(texts: readonly string[], knownTools: readonly string[]): NativePacked;
}

export const NATIVE_EXPORTS: ReadonlyArray<keyof NativeAddon> = ['version', 'createEngine', 'open', 'feed', 'finish', 'close', 'extractTexts'];
