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
  /** mode 0: SSE body; 1: plain text. offeredTools: the tools offered to the
   * model (undefined: unknown, no not_offered status). Returns the stream handle. */
  open(engine: NativeEngineHandle, mode: 0 | 1, knownTools: readonly string[], offeredTools?: readonly string[]): number;
  /** One call for many streams' body chunks: chunk i is data[ends[i-1], ends[i]) for handles[i].
   * With `count`, only the first `count` entries of the three arrays are read (reused scratch arrays);
   * without it they must all be the batch's length. */
  feed(engine: NativeEngineHandle, handles: Uint32Array, data: Uint8Array, ends: Uint32Array, timesMs: Float64Array, count?: number): void;
  /** Ends the stream and closes its handle. The numbers are written into `nums`
   * when they fit (the result then holds `nums` itself: read it before the next
   * call that reuses it), else into a new array. */
  finish(engine: NativeEngineHandle, handle: number, nums?: Float64Array): NativePacked;
  close(engine: NativeEngineHandle, handle: number): void;
  /** Per text: content, reasoning, calls, final-answer lines (src/extract/packed.ts). */
  extractTexts(texts: readonly string[], knownTools: readonly string[], offeredTools?: readonly string[]): NativePacked;
}

export const NATIVE_EXPORTS: ReadonlyArray<keyof NativeAddon> = ['version', 'createEngine', 'open', 'feed', 'finish', 'close', 'extractTexts'];
