import { test } from 'node:test';
import assert from 'node:assert/strict';
import { requireNative } from '../src/native/loader';
import { NATIVE_EXPORTS } from '../src/native/native-api';

test('the hand-written native-api.ts mirrors the addon exports exactly', () => {
  const addon = requireNative() as unknown as Record<string, unknown>;
  const actual = Object.keys(addon).sort();
  assert.deepEqual(actual, [...NATIVE_EXPORTS].sort());
  for (const k of NATIVE_EXPORTS) assert.equal(typeof addon[k], 'function', k);
});
