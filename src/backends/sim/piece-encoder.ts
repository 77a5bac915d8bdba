// Qwen3 encoding with the BPE result memoised per pre-tokenized piece. The
// package's encode runs, per text: a split on the added tokens, NFC, the
// Qwen2 pre-tokenizer regex, then per piece a byte-level remap
// (TextEncoder + a join), an LRU lookup of the piece's BPE and an id lookup
// per token. Each piece is tokenized on its own, so the ids of a text are
// the concatenation of its pieces' ids: a memo piece -> ids gives exactly
// the package's result and skips the per-piece work on every repeat (the
// simulator sees the same words in every prompt; ~0.6 ms -> ~0.1 ms for a
// 660-character prompt). Tokenizers of another shape use the package's
// encode unchanged. Test 59 checks both against each other.
//
// Decoding mirrors the package's ByteLevel decoder the same way: its
// decode_chain spreads every token into characters, looks each up in the
// byte table and scans the added tokens linearly per token; the byte
// sequence of a token never changes, so it is kept per id.
import type { Tokenizer } from './tokenizer-data';

interface PreTokenizer {
  pre_tokenize(texts: string[]): string[];
  pre_tokenize_text(text: string): string[];
  config?: { use_regex?: boolean; invert?: boolean; behavior?: string };
  constructor: { name: string };
  pattern?: RegExp | null;
}
interface AddedToken {
  lstrip?: boolean;
  rstrip?: boolean;
}
/** The parts of the package's tokenizer this mirrors (its own fields). */
interface Internals {
  added_tokens_splitter: { split(text: string): string[] };
  added_tokens_map: Map<string, AddedToken>;
  normalizer: (((text: string) => string) & { constructor: { name: string }; form?: string }) | null;
  added_tokens: Array<{ content: string }>;
  pre_tokenizer: { constructor: { name: string }; tokenizers?: PreTokenizer[] };
  post_processor: { constructor: { name: string } } | null;
  model: ((tokens: string[]) => string[]) & {
    fuse_unk?: boolean;
    convert_tokens_to_ids(tokens: string[]): number[];
    convert_ids_to_tokens(ids: number[]): Array<string | null | undefined>;
  };
  remove_space?: boolean;
  do_lowercase_and_remove_accent?: boolean;
  decoder: {
    constructor: { name: string };
    added_tokens: Array<{ content: string }>;
    byte_decoder: Record<string, number>;
    end_of_word_suffix?: string | null;
  } | null;
  clean_up_tokenization_spaces?: boolean;
}

export interface PieceEncoder {
  encode(text: string): number[];
  count(text: string): number;
  /** `tok.decode(ids, { skip_special_tokens: false })`. */
  decode(ids: number[]): string;
}

const MEMO_MAX = 200_000;

/** Whether `tok` has the shape whose encoding this reproduces: the Qwen2
 * pipeline (regex split, then a byte-level map of each piece, a BPE without
 * unknown-token fusing, a byte-level post-processor that adds nothing). */
function mirrorable(t: Internals): boolean {
  const pre = t.pre_tokenizer?.tokenizers;
  return t.pre_tokenizer?.constructor.name === 'PreTokenizerSequence' && pre?.length === 2
    && (pre[0] as { constructor: { name: string } }).constructor.name === 'SplitPreTokenizer'
    && (pre[1] as { constructor: { name: string } }).constructor.name === 'ByteLevelPreTokenizer'
    && pre[1]!.config?.use_regex === false
    && t.post_processor?.constructor.name === 'ByteLevelPostProcessor'
    && !t.model.fuse_unk && t.remove_space !== true && !t.do_lowercase_and_remove_accent;
}

/** An encoder that returns exactly `tok.encode(text, { add_special_tokens:
 * false })`, memoising each piece's ids. */
export function pieceEncoder(tok: Tokenizer): PieceEncoder {
  const t = tok as unknown as Internals;
  const slow = (ids: number[]): string => tok.decode(ids, { skip_special_tokens: false });
  const decode = byteLevelDecoder(t, slow) ?? slow;
  if (!mirrorable(t)) {
    const encode = (text: string): number[] => tok.encode(text, { add_special_tokens: false });
    return { encode, count: (text) => encode(text).length, decode };
  }
  const [split, byteLevel] = t.pre_tokenizer.tokenizers as [PreTokenizer, PreTokenizer];
  const memo = new Map<string, number[]>();
  const pieceIds = (piece: string): number[] => {
    let ids = memo.get(piece);
    if (ids === undefined) {
      ids = t.model.convert_tokens_to_ids(t.model(byteLevel.pre_tokenize([piece])));
      if (memo.size >= MEMO_MAX) memo.clear();
      memo.set(piece, ids);
    }
    return ids;
  };
  const { sections: splitSections, normalize, pieces } = firstSightSteps(t, split);
  // Calls `each` with the ids of every part of `text`, in order (the
  // package's _encode_text, section by section).
  const walk = (text: string, each: (ids: number[]) => void): void => {
    const sections = splitSections(text);
    for (let i = 0; i < sections.length; i++) {
      const added = t.added_tokens_map.get(sections[i]!);
      if (!added) continue;
      if (added.lstrip && i > 0) sections[i - 1] = sections[i - 1]!.trimEnd();
      if (added.rstrip && i < sections.length - 1) sections[i + 1] = sections[i + 1]!.trimStart();
    }
    for (let section of sections) {
      if (section.length === 0) continue;
      if (t.added_tokens_map.has(section)) {
        each(t.model.convert_tokens_to_ids([section]));
        continue;
      }
      section = normalize(section);
      if (section.length === 0) continue;
      for (const piece of pieces(section)) each(pieceIds(piece));
    }
  };
  return {
    encode(text) {
      const out: number[] = [];
      walk(text, (ids) => {
        for (const id of ids) out.push(id);
      });
      return out;
    },
    count(text) {
      let n = 0;
      walk(text, (ids) => {
        n += ids.length;
      });
      return n;
    },
    decode,
  };
}

const ASCII = /^[\x00-\x7f]*$/;

/** The package's per-text steps before the piece memo, each with a fast
 * path that gives its exact result (test 59):
 * - the added-token split finds nothing when no character of the text
 *   starts an added token (its trie is walked from each code unit);
 * - NFC leaves ASCII as it is;
 * - the Split pre-tokenizer (regexSplit: the matches and the text between
 *   them) is the regex's matches when they cover the whole text, which
 *   String.prototype.match tells without a match object per piece. */
function firstSightSteps(t: Internals, split: PreTokenizer): {
  sections(text: string): string[];
  normalize(text: string): string;
  pieces(section: string): string[];
} {
  const starts = [...new Set(t.added_tokens.map((a) => a.content[0]).filter((c): c is string => c !== undefined))];
  const norm = t.normalizer;
  const nfc = norm !== null && norm.constructor.name === 'NFC' && norm.form === 'NFC';
  const re = split.constructor.name === 'SplitPreTokenizer' && split.pattern instanceof RegExp && split.pattern.global
    && !split.config?.invert && split.config?.behavior?.toLowerCase() !== 'removed' ? split.pattern : null;
  return {
    sections: (text) => (starts.length <= 8 && starts.every((c) => !text.includes(c)) ? (text.length > 0 ? [text] : []) : t.added_tokens_splitter.split(text)),
    normalize: (text) => (norm === null || (nfc && ASCII.test(text)) ? text : norm(text)),
    pieces(section) {
      if (re !== null) {
        const found = section.match(re);
        let covered = 0;
        if (found) for (const m of found) covered += m.length;
        if (found && covered === section.length) return found.filter((m) => m.length > 0);
      }
      return split.pre_tokenize([section]);
    },
  };
}

/** The package's decode_single without skipping, for its ByteLevel decoder
 * (no cleanup, no end-of-word suffix): ids -> tokens (unknown ids are null
 * and join as ''), runs of non-added tokens -> their bytes -> one UTF-8
 * decode per run (fatal: false, BOM kept, as its TextDecoder), added tokens
 * verbatim. Null for any other decoder shape. */
function byteLevelDecoder(t: Internals, slow: (ids: number[]) => string): ((ids: number[]) => string) | null {
  const dec = t.decoder;
  if (!dec || dec.constructor.name !== 'ByteLevelDecoder' || dec.end_of_word_suffix || t.clean_up_tokenization_spaces) return null;
  const added = new Set(dec.added_tokens.map((a) => a.content));
  const bytesOf = new Map<number, Uint8Array | string | null>();
  const text = new TextDecoder('utf-8', { fatal: false, ignoreBOM: true });
  // A token's bytes: [...token] through the byte table; a character outside
  // it becomes 0, as `new Uint8Array([undefined])` does in the package. A
  // token with a UTF-16 surrogate could pair with its neighbour in the
  // package's joined string: such ids take the package's path (null).
  const entry = (id: number): Uint8Array | string | null => {
    let e = bytesOf.get(id);
    if (e === undefined) {
      const token = t.model.convert_ids_to_tokens([id])[0] ?? '';
      if (/[\uD800-\uDFFF]/.test(token)) e = null;
      else e = added.has(token) ? token : new Uint8Array([...token].map((c) => dec.byte_decoder[c]!));
      bytesOf.set(id, e);
    }
    return e;
  };
  let buf = new Uint8Array(256);
  return (ids) => {
    let out = '';
    let n = 0;
    for (const id of ids) {
      const e = entry(id);
      if (e === null) return slow(ids);
      if (typeof e === 'string') {
        if (n > 0) out += text.decode(buf.subarray(0, n));
        n = 0;
        out += e;
        continue;
      }
      if (n + e.length > buf.length) {
        const bigger = new Uint8Array(Math.max(buf.length * 2, n + e.length));
        bigger.set(buf.subarray(0, n));
        buf = bigger;
      }
      buf.set(e, n);
      n += e.length;
    }
    if (n > 0) out += text.decode(buf.subarray(0, n));
    return out;
  };
}
