// Hand-written mirror of the addon's exports (native/src/binding.cc).
// test/10.native-binding.test.ts checks the two stay in step.
export interface NativeAddon {
  version(): string;
}

export const NATIVE_EXPORTS: ReadonlyArray<keyof NativeAddon> = ['version'];
