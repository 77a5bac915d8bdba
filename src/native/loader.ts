import fs from 'node:fs';
import path from 'node:path';

// The one place that finds and loads the compiled addon. Its exports are
// declared in native-api.ts (kept in step with native/src/binding.cc by
// test/10.native-binding.test.ts).
import type { NativeAddon } from './native-api';

const ROOT = path.resolve(__dirname, '..', '..', '..');
export const ADDON_CANDIDATES = [
  path.join(ROOT, 'build', 'Release', 'tce_native.node'),
  path.join(ROOT, 'build', 'Debug', 'tce_native.node'),
  path.join(ROOT, 'build-cmake', 'Release', 'tce_native.node'),
  path.join(ROOT, 'build-cmake', 'tce_native.node'),
];

export interface LoadResult {
  addon: NativeAddon | null;
  /** Why loading failed: every path tried and what happened, plus the fix. */
  diagnosis: string | null;
}

let cached: LoadResult | undefined;

export function loadNative(candidates: readonly string[] = ADDON_CANDIDATES): LoadResult {
  if (candidates === ADDON_CANDIDATES && cached) return cached;
  const tried: string[] = [];
  for (const p of candidates) {
    if (!fs.existsSync(p)) {
      tried.push(`${p}: not found`);
      continue;
    }
    try {
      const addon = require(p) as NativeAddon;
      const res = { addon, diagnosis: null };
      if (candidates === ADDON_CANDIDATES) cached = res;
      return res;
    } catch (e) {
      tried.push(`${p}: ${(e as Error).message.split('\n')[0]}`);
    }
  }
  const res = {
    addon: null,
    diagnosis: `the native addon could not be loaded; tried:\n  ${tried.join('\n  ')}\nrebuild it with \`npm run build:native\` (node-gyp) or \`npm run build:native:cmake\``,
  };
  if (candidates === ADDON_CANDIDATES) cached = res;
  return res;
}

/** Loads the addon or throws with the full diagnosis. */
export function requireNative(): NativeAddon {
  const r = loadNative();
  if (!r.addon) throw new Error(r.diagnosis ?? 'native addon unavailable');
  return r.addon;
}
