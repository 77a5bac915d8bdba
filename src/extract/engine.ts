// Picks the stream engine: the C++ addon when it loads, else the TypeScript
// twin with one loud warning carrying the loader's diagnosis.
import { loadNative } from '../native/loader';
import type { StreamEngine } from './types';
import { NativeStreamEngine } from './native-engine';
import { TwinStreamEngine } from './twin/twin-engine';

let warned = false;

export function createStreamEngine(prefer: 'native' | 'typescript' = 'native'): StreamEngine {
  if (prefer === 'typescript') return new TwinStreamEngine();
  const { addon, diagnosis } = loadNative();
  if (addon) return new NativeStreamEngine(addon);
  if (!warned) {
    warned = true;
    process.stderr.write(`tce: WARNING: native stream engine unavailable, using the TypeScript twin (slower).\n${diagnosis ?? ''}\n`);
  }
  return new TwinStreamEngine();
}
