// Shared by the 3x (data) tests.
import assert from 'node:assert/strict';
import { TceError } from '../src/util/errors';

/** Asserts that `fn` throws a TceError with this code and messages matching every pattern. */
export function throwsTce(fn: () => unknown, code: string, ...patterns: RegExp[]): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(e instanceof TceError, `expected TceError, got ${String(e)}`);
    assert.equal(e.code, code, e.message);
    for (const p of patterns) assert.match(e.message, p);
    return true;
  });
}
