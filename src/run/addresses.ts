// How node:net connects to a host name with several addresses, and how it
// words the failure of them all (autoSelectFamily, on by default since
// Node 20): the I/O thread's route follows the order, so a name like
// `localhost` (::1 and 127.0.0.1) connects as on node:net, and every route
// (node:net, the I/O thread, undici) words the failure alike, and an
// attempt with addresses after it gives up after node's attempt timeout
// (an address that drops the connect's packets costs 250 ms, not the request).
import type { LookupAddress } from 'node:dns';
import net from 'node:net';

/** node:net's per-attempt timeout (autoSelectFamilyAttemptTimeout: 250 ms
 * unless node was started with another), for the I/O thread's connects. */
export function attemptTimeoutMs(): number {
  return net.getDefaultAutoSelectFamilyAttemptTimeout();
}

/** The order node tries `addresses` in (lib/net.js lookupAndConnectMultiple):
 * each address once, the first address's family first, then the two
 * families alternating. */
export function attemptOrder(addresses: readonly LookupAddress[]): string[] {
  if (addresses.length === 0) return [];
  const firstV6 = addresses[0]!.family === 6;
  const lists: [string[], string[]] = [[], []];
  const seen = new Set<string>();
  for (const a of addresses) {
    if ((a.family !== 4 && a.family !== 6) || seen.has(a.address)) continue;
    seen.add(a.address);
    lists[(a.family === 6) === firstV6 ? 0 : 1].push(a.address);
  }
  const out: string[] = [];
  for (let i = 0; i < Math.max(lists[0].length, lists[1].length); i++) {
    if (i < lists[0].length) out.push(lists[0][i]!);
    if (i < lists[1].length) out.push(lists[1][i]!);
  }
  return out;
}

/** A socket error as text. Every address refused, node:net reports an
 * AggregateError whose message is empty: its attempts are the text. */
export function socketErrorText(e: Error): string {
  const errors = (e as { errors?: unknown }).errors;
  if (e.message === '' && Array.isArray(errors) && errors.length > 0) return errors.map((x) => String((x as Error)?.message ?? x)).join('; ');
  return e.message;
}
