// The texts table (tables.ts, TEXTS): each long text of an interned column
// stored once, by content. An id is the first 31 bits of the text's sha256
// (4 bytes in a row; databases of migration 9 hold 51-bit ids, read alike);
// a different text already under that id (for the ~60,000 texts of a
// default run, about one) takes the next free id, so an id always names
// exactly one text and lookups need no hash.
import { hash } from 'node:crypto';
import type { DB } from './db';
import type { Cell } from './rows';

/** Texts shorter than this (UTF-8 bytes) stay inline: an id costs ~8. */
export const INTERN_MIN_BYTES = 24;

const ID_SPACE = 2 ** 31;

const BASE64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const SEXTET = new Uint8Array(128);
for (let i = 0; i < BASE64.length; i++) SEXTET[BASE64.charCodeAt(i)] = i;

/** The id a text takes unless another text holds it: the first 31 bits of
 * its sha256, read from the first 6 base64 characters of its textDigest
 * (36 bits: the first 4 bytes and 4 more bits) without a Buffer: decoding
 * one per text cost the bulk load's main thread ~1 s. */
export function naturalIdOfDigest(sha: string): number {
  let v = 0;
  for (let k = 0; k < 6; k++) v = v * 64 + SEXTET[sha.charCodeAt(k)]!;
  return Math.floor(v / 16) >>> 1;
}

/** The sha256 of a text as base64 (44 characters), by which its id is
 * found. The one-shot hash straight to base64 is ~4x cheaper than a Hash
 * object and a digest Buffer (a default run hashes ~470,000 cells). */
export function textDigest(text: string | Uint8Array): string {
  return hash('sha256', text, 'base64');
}

/** Whether a cell of an interned column goes to texts (else it stays inline). */
export function isLongText(v: Cell): v is string | Uint8Array {
  return typeof v === 'string' ? Buffer.byteLength(v) >= INTERN_MIN_BYTES : v instanceof Uint8Array && v.length >= INTERN_MIN_BYTES;
}

export class TextStore {
  /** Ids this store has checked, with the full sha256 of their text. */
  private readonly known = new Map<number, string>();
  private readonly insert;
  private readonly same;

  constructor(db: DB) {
    // Text arrives as UTF-8 bytes from the Arrow files; CAST keeps it TEXT.
    this.insert = db.prepare('INSERT OR IGNORE INTO texts (id, text) VALUES (?, CAST(? AS TEXT))');
    this.same = db.prepare('SELECT text = CAST(? AS TEXT) AS same FROM texts WHERE id = ?').pluck();
  }

  /** The id of `text` in texts, inserting it when new. `sha`: its
   * textDigest when already known (the bulk load's decoding thread hashes). */
  idOf(text: string | Uint8Array, sha = textDigest(text)): number {
    let id = naturalIdOfDigest(sha);
    for (;;) {
      const k = this.known.get(id);
      if (k === sha) return id;
      if (k === undefined && (this.insert.run(id, text).changes === 1 || this.same.get(text, id) === 1)) {
        this.known.set(id, sha);
        return id;
      }
      id = (id + 1) % ID_SPACE;
    }
  }

  /** A cell of an interned column as [inline value, text id]. */
  split(v: Cell, sha?: string): [Cell, number | null] {
    if (!isLongText(v)) return [v, null];
    return [null, sha === undefined ? this.idOf(v) : this.idOf(v, sha)];
  }
}
