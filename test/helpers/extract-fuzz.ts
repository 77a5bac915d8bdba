// Seeded random model outputs and SSE bodies for the differential tests
// (test/12) and the bench. Fragments are biased towards the places where
// the rules are subtle: tags, quotes, escapes, braces, multi-byte UTF-8.

export function rng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FRAGMENTS = [
  '<tool_call>', '</tool_call>', '<think>', '</think>', '<tool_', '</tool', '\n', ' ', '  ', '\t', '\r\n',
  '{', '}', '[', ']', '"', "'", ':', ',', '\\', '\\"', "\\'", '\\n', '\\u00e9', '\\ud83d\\ude00', '\\ud800', '\\x',
  '"name"', "'name'", '"arguments"', '"parameters"', '"check_scene_prior"', '"check_confusion_risk"', '"other_tool"',
  'True', 'False', 'None', 'true', 'null', '1', '-2.5e3', '01', '1.', 'x', 'é', '€', '😀', '中文',
  '```', '```json\n', 'FINAL_SCENE: incident zone\n', 'FINAL_LONG_ACTION: stop\n', '**REVISED:** yes\n', 'REASON: because\n',
  '{"name": "check_scene_prior", "arguments": {"predicted_scene": "flooded"}}',
  "{'name': 'check_confusion_risk', 'arguments': {'a': True,},}",
  '{"name":"check_scene_prior","arguments":"{\\"s\\": 1}"}',
  '<tool_call>\n{"name": "check_scene_prior", "arguments": {"predicted_scene": "nominal"}}\n</tool_call>',
  "<tool_call>{'name': 'check_confusion_risk', 'parameters': {'x': [1, 2,], 'y': None}}</tool_call>",
  '<tool_call>[{"name": "a", "arguments": {}}, {"name": "b", "arguments": "{\\"k\\": \\"</tool_call>\\"}"}]</tool_call>',
  // the other tag syntaxes (issue 12), their pieces and hostile variants
  '<function=', '<function name="', "<function name='", '<function', '</function>', '</func', '>', '="', 'check_scene_prior', 'a.b-c',
  '<function=check_scene_prior>', '<function name="check_confusion_risk">', '<function=other_tool>{"x": 1}</function>',
  '<function=check_scene_prior>{"predicted_scene": "flooded"}</function>', "<function name='a'>{'s': None}</function>",
  '<function name="a"b">', '<function="a">', '<function=a b>',
  // unescaped quotes inside string values
  '"say "hi" now"', '{"r": "sign "STOP" here"}', '"it"s"', '" "', '"x "} y"',
];

export function randomText(r: () => number, maxParts = 40): string {
  const n = Math.floor(r() * maxParts);
  let s = '';
  for (let i = 0; i < n; i++) s += FRAGMENTS[Math.floor(r() * FRAGMENTS.length)]!;
  return s;
}

/** Random bytes from text, sometimes with invalid UTF-8 spliced in. */
export function randomBytes(r: () => number, text: string): Uint8Array {
  const b = Buffer.from(text, 'utf8');
  if (r() < 0.7) return b;
  const bad = [0xff, 0xc3, 0xe2, 0x82, 0xed, 0xa0, 0xf0, 0x9f, 0x80];
  const out: number[] = [];
  for (const x of b) {
    out.push(x);
    if (r() < 0.05) out.push(bad[Math.floor(r() * bad.length)]!);
  }
  return Uint8Array.from(out);
}

/** Splits bytes at random points (possibly inside UTF-8 characters, escapes, tags). */
export function randomSplit(r: () => number, bytes: Uint8Array, maxPieces = 12): Uint8Array[] {
  const cuts = new Set<number>();
  const k = Math.floor(r() * maxPieces);
  for (let i = 0; i < k; i++) cuts.add(Math.floor(r() * (bytes.length + 1)));
  const sorted = [...cuts].sort((a, b) => a - b);
  const out: Uint8Array[] = [];
  let prev = 0;
  for (const c of sorted) {
    out.push(bytes.subarray(prev, c));
    prev = c;
  }
  out.push(bytes.subarray(prev));
  return out;
}

/** A random vLLM-like SSE body carrying `text` in random deltas, plus some of:
 * role chunk, reasoning, server tool_calls, finish, usage, error, malformed
 * events, comments, CRLF line ends, multi-line data, [DONE]. */
export function randomSse(r: () => number, text: string): string {
  const nl = r() < 0.2 ? '\r\n' : '\n';
  const ev = (o: unknown) => `data: ${JSON.stringify(o)}${nl}${nl}`;
  const escape = (s: string) => (r() < 0.3 ? s.replace(/[^\x20-\x7e]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`) : s);
  let body = '';
  if (r() < 0.8) body += ev({ id: 'chatcmpl-1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, logprobs: null, finish_reason: null }] });
  let i = 0;
  while (i < text.length) {
    const n = 1 + Math.floor(r() * 12);
    const piece = text.slice(i, i + n);
    i += n;
    const x = r();
    if (x < 0.03) body += `: keep-alive${nl}`;
    if (x < 0.01) body += `data: {"choices":[{"delta":{"content":${JSON.stringify(piece)}}}]${nl}${nl}`; // malformed
    else if (x < 0.08) body += `data: {"choices":[{"delta":${nl}data: {"content":${JSON.stringify(piece)}}}]}${nl}${nl}`; // multi-line data
    else if (x < 0.12) body += ev({ choices: [{ delta: { reasoning: piece } }] });
    else if (x < 0.15) body += `data: {"choices":[{"delta":{"content":"${escape(JSON.stringify(piece).slice(1, -1))}"},"finish_reason":null}]}${nl}${nl}`;
    else body += ev({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null, token_ids: null }] });
  }
  if (r() < 0.15) {
    body += ev({ choices: [{ delta: { tool_calls: [{ index: 0, id: 'chatcmpl-tool-1', type: 'function', function: { name: 'check_scene_prior' } }] } }] });
    body += ev({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: r() < 0.5 ? '{"predicted_scene": ' : "{'a': True," } }] } }] });
    body += ev({ choices: [{ delta: { tool_calls: [{ index: 0, function: { arguments: r() < 0.5 ? '"nominal"}' : '' } }] } }] });
  }
  if (r() < 0.1) body += ev({ error: { message: 'engine died é', type: 'InternalServerError', param: null, code: 500 } });
  if (r() < 0.05) body += ev({ object: 'error', message: 'old style', type: 'BadRequestError', code: 400 });
  if (r() < 0.8) body += ev({ choices: [{ index: 0, delta: {}, finish_reason: r() < 0.5 ? 'stop' : 'length', stop_reason: null }] });
  if (r() < 0.7) body += ev({ id: 'chatcmpl-1', choices: [], usage: { prompt_tokens: 1234, total_tokens: 1300, completion_tokens: 66 } });
  if (r() < 0.9) body += `data: [DONE]${nl}${r() < 0.8 ? nl : ''}`;
  return body;
}
