// Issue 12 "extraction of what real models emit": the <function=NAME> and
// <function name="NAME"> syntaxes, the not_offered status, and the
// unescaped-quote repair, on both engines, whole and split at every byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractTexts } from '../src/extract/extract';
import { createStreamEngine } from '../src/extract/engine';
import type { ExtractResult, StreamEngineOptions, StreamResult } from '../src/extract/types';
import { requireNative } from '../src/native/loader';
import { tce } from './helpers/cli';

const TOOLS = ['check_scene_prior', 'check_confusion_risk'];
const base: StreamEngineOptions = { knownTools: TOOLS, answerKind: 'verify' };

/** Extracts with both engines, checks they agree, returns the result. */
function both(text: string, opts: StreamEngineOptions = base): ExtractResult {
  requireNative();
  const [n] = extractTexts([text], opts, 'native');
  const [t] = extractTexts([text], opts, 'typescript');
  assert.deepEqual(n, t, `engines disagree on ${JSON.stringify(text)}`);
  return n!;
}
const calls = (text: string, opts: StreamEngineOptions = base) =>
  both(text, opts).toolCalls.map((c) => ({ name: c.name, arguments: c.arguments, status: c.status, repairs: c.repairs }));

test('<function=NAME>{json}</function> is a call with status function_eq; raw is the body', () => {
  const r = both('Checking. <function=check_scene_prior>{"predicted_scene": "flooded"}</function> done');
  assert.deepEqual(r.toolCalls, [{ name: 'check_scene_prior', arguments: { predicted_scene: 'flooded' }, status: 'function_eq', repairs: [], raw: '{"predicted_scene": "flooded"}', source: 'text' }]);
  assert.equal(r.content, 'Checking.  done');
});

test('<function name="NAME">{json}</function> is a call with status function_attr (either quote, spaces)', () => {
  assert.deepEqual(calls('<function name="check_confusion_risk">\n{"predicted_scene": "flagger"}\n</function>'), [{ name: 'check_confusion_risk', arguments: { predicted_scene: 'flagger' }, status: 'function_attr', repairs: [] }]);
  assert.deepEqual(calls("<function \n name='a.b-c_1' >{}</function>"), [{ name: 'a.b-c_1', arguments: {}, status: 'function_attr', repairs: [] }]);
});

test('function blocks: repairs keep the syntax status; missing or bad bodies; several blocks mixed with hermes', () => {
  assert.deepEqual(calls("<function=a>{'x': True,}</function>"), [{ name: 'a', arguments: { x: true }, status: 'function_eq', repairs: ['single_quotes', 'python_literals', 'trailing_comma'] }]);
  assert.deepEqual(calls('<function=a></function>'), [{ name: 'a', arguments: {}, status: 'function_eq', repairs: ['missing_arguments'] }]);
  assert.deepEqual(calls('<function=a>"{\\"x\\": 1}"</function>'), [{ name: 'a', arguments: { x: 1 }, status: 'function_eq', repairs: ['arguments_string'] }]);
  assert.deepEqual(calls('<function=a>```json\n{"x": 1}\n```</function>'), [{ name: 'a', arguments: { x: 1 }, status: 'function_eq', repairs: ['code_fence'] }]);
  assert.deepEqual(calls('<function=a>{x: 1}</function>'), [{ name: 'a', arguments: null, status: 'invalid_json', repairs: [] }]);
  const r = both('<tool_call>{"name":"h","arguments":{}}</tool_call><function=e>{}</function><function name="f">{}</function>');
  assert.deepEqual(r.toolCalls.map((c) => [c.name, c.status]), [['h', 'ok'], ['e', 'function_eq'], ['f', 'function_attr']]);
});

test('function blocks: the end tag inside a JSON string does not end the block; unterminated and truncated', () => {
  assert.deepEqual(calls('<function=a>{"note": "</function> }"}</function>tail'), [{ name: 'a', arguments: { note: '</function> }' }, status: 'function_eq', repairs: [] }]);
  assert.deepEqual(calls('<function=a>{"x": 1}'), [{ name: 'a', arguments: { x: 1 }, status: 'function_eq', repairs: [] }]);
  assert.deepEqual(calls('<function=a>{"x": 1'), [{ name: 'a', arguments: { x: 1 }, status: 'truncated', repairs: ['missing_brace'] }]);
  // the end tag inside a string of a cut-off block does not close it...
  assert.deepEqual(calls('<function=a>{"x": "</function>"'), [{ name: 'a', arguments: { x: '</function>' }, status: 'truncated', repairs: ['missing_brace'] }]);
  // ...but a string never closed falls back to the first literal end tag (as for <tool_call>)
  assert.deepEqual(calls('<function=a>{"x": "</function>'), [{ name: 'a', arguments: null, status: 'invalid_json', repairs: [] }]);
  assert.deepEqual(calls('<function=a>'), [{ name: 'a', arguments: null, status: 'truncated', repairs: [] }]);
  assert.deepEqual(calls('<function=a>{"x": 1} and more'), [{ name: 'a', arguments: null, status: 'truncated', repairs: [] }]);
});

test('hostile open tags: not a tag, so content (and no call)', () => {
  for (const text of [
    '<function name="a"b">{}</function>', // a quote inside the name
    '<function="a">{}</function>', // quoted name in the = syntax
    '<function name=a>{}</function>', // unquoted attribute
    '<function name="a\'>{}</function>', // mismatched quotes
    '<function=a b>{}</function>', // space in the name
    '<function=>{}</function>', // empty name
    '<function=é>{}</function>', // outside [A-Za-z0-9_.-]
    '<functionname="a">{}</function>',
    '<function=a', // open tag cut off
    '<function name="a"',
  ]) {
    const r = both(text);
    assert.deepEqual(r.toolCalls, [], text);
    assert.equal(r.content, text, text);
  }
  // a bad open tag does not hide a good one after it
  assert.deepEqual(calls('<function="x">{}</function><function=y>{}</function>').map((c) => [c.name, c.status]), [['y', 'function_eq']]);
});

test('nested tags: the first opening tag wins, its body is read by its own rules', () => {
  // a function block inside a hermes block is hermes JSON: not readable
  const r = both('<tool_call><function=a>{}</function></tool_call>x');
  assert.deepEqual(r.toolCalls.map((c) => [c.name, c.status, c.raw]), [[null, 'invalid_json', '<function=a>{}</function>']]);
  assert.equal(r.content, 'x');
  // a function block ends at the first end tag outside strings
  const r2 = both('<function=a><function=b>{}</function></function>');
  assert.deepEqual(r2.toolCalls.map((c) => [c.name, c.status, c.raw]), [['a', 'invalid_json', '<function=b>{}']]);
  assert.equal(r2.content, '</function>');
  // a hermes block inside a function body
  assert.deepEqual(calls('<function=a><tool_call>{"name":"b","arguments":{}}</tool_call></function>').map((c) => [c.name, c.status]), [['a', 'invalid_json']]);
  // inside <think>, any syntax is in_reasoning; a function tag switches the untagged fallback off
  const r3 = both('<think><function=a>{}</function><function name="b">{}</function></think>{"name": "check_scene_prior", "arguments": {}} <function=c>{}</function>');
  assert.deepEqual(r3.toolCalls.map((c) => [c.name, c.status]), [['a', 'in_reasoning'], ['b', 'in_reasoning'], ['c', 'function_eq']]);
});

test('offered tools known: readable calls to other tools are not_offered; rejected statuses stay', () => {
  const opts: StreamEngineOptions = { ...base, offeredTools: ['check_scene_prior'] };
  const text = '<tool_call>{"name":"check_scene_prior","arguments":{}}</tool_call>' +
    '<tool_call>{"name":"check_confusion_risk","arguments":{}}</tool_call>' +
    "<tool_call>{'name':'check_confusion_risk','arguments':{}}</tool_call>" +
    '<function=nope>{}</function><function name="check_scene_prior">{}</function>' +
    '<tool_call>{"name":"nope","arguments":{bad}}</tool_call>' +
    '<tool_call>{"name":"nope","arguments":{"x":1}}';
  assert.deepEqual(calls(text, opts).map((c) => [c.name, c.status]), [
    ['check_scene_prior', 'ok'], ['check_confusion_risk', 'not_offered'], ['check_confusion_risk', 'not_offered'],
    ['nope', 'not_offered'], ['check_scene_prior', 'function_attr'], [null, 'invalid_json'], ['nope', 'not_offered'],
  ]);
  assert.deepEqual(calls('<think><tool_call>{"name":"nope","arguments":{}}</tool_call></think>', opts).map((c) => c.status), ['in_reasoning']);
  assert.deepEqual(calls('<tool_call>{"name":"nope","arguments":{"x":1', opts).map((c) => c.status), ['truncated']);
  // an untagged call names a known tool; known but not offered is not_offered
  assert.deepEqual(calls('{"name": "check_confusion_risk", "arguments": {}}', opts).map((c) => c.status), ['not_offered']);
  // offered set unknown: no check; known and empty: every readable call is not_offered
  assert.deepEqual(calls('<function=nope>{}</function>').map((c) => c.status), ['function_eq']);
  assert.deepEqual(calls('<function=check_scene_prior>{}</function>', { ...base, offeredTools: [] }).map((c) => c.status), ['not_offered']);
});

test('offered tools known: server-parsed calls get the same check, on both stream engines', () => {
  const ev = (o: unknown) => `data: ${JSON.stringify(o)}\n\n`;
  const body = ev({ choices: [{ delta: { tool_calls: [{ index: 0, function: { name: 'check_confusion_risk', arguments: '{}' } }, { index: 1, function: { name: 'check_scene_prior', arguments: '{}' } }] } }] }) +
    ev({ choices: [{ delta: { content: '<function=check_confusion_risk>{}</function>' }, finish_reason: 'stop' }] });
  for (const impl of ['native', 'typescript'] as const) {
    const e = createStreamEngine(impl);
    const h = e.open({ ...base, offeredTools: ['check_scene_prior'] });
    e.feed([{ handle: h, chunk: Buffer.from(body), timeMs: 0 }]);
    const r = e.finish(h);
    assert.deepEqual(r.toolCalls.map((c) => [c.name, c.status, c.source]), [['check_confusion_risk', 'not_offered', 'server'], ['check_scene_prior', 'ok', 'server'], ['check_confusion_risk', 'not_offered', 'text']], impl);
  }
});

test('unescaped double quotes inside a string value are repaired when no quote could have ended the string', () => {
  assert.deepEqual(calls('<tool_call>{"name": "a", "arguments": {"reason": "the sign says "STOP" here", "b": 1}}</tool_call>'),
    [{ name: 'a', arguments: { reason: 'the sign says "STOP" here', b: 1 }, status: 'repaired', repairs: ['unescaped_quote'] }]);
  assert.deepEqual(calls('<function=a>{"t": "it"s", "u": "a "b"\n c"}</function>'), [{ name: 'a', arguments: { t: 'it"s', u: 'a "b"\n c' }, status: 'function_eq', repairs: ['unescaped_quote', 'raw_newline'] }]);
  // inside arguments given as a string, and with other repairs
  assert.deepEqual(calls('<tool_call>{"name": "a", "arguments": {"q": "say "hi" now", \'r\': True,}}</tool_call>'),
    [{ name: 'a', arguments: { q: 'say "hi" now', r: true }, status: 'repaired', repairs: ['unescaped_quote', 'single_quotes', 'python_literals', 'trailing_comma'] }]);
});

test('ambiguous unescaped quotes are NOT repaired: a quote that could end the string ends it', () => {
  const status = (text: string) => calls(text).map((c) => [c.status, c.arguments]);
  // followed by ',' : the string might end there ("hi" then another member)
  assert.deepEqual(status('<tool_call>{"name": "a", "arguments": {"r": "he said "hi", then left"}}</tool_call>'), [['invalid_json', null]]);
  // followed by '}' / ']' / ':' mid-value
  assert.deepEqual(status('<tool_call>{"name": "a", "arguments": {"r": "x "} z"}}</tool_call>'), [['invalid_json', null]]);
  assert.deepEqual(status('<tool_call>{"name": "a", "arguments": {"r": ["x "] z"]}}</tool_call>'), [['invalid_json', null]]);
  // (a brace after a quote that cannot end the string is just text)
  assert.deepEqual(status('<tool_call>{"name": "a", "arguments": {"r": "x "y} z"}}</tool_call>'), [['repaired', { r: 'x "y} z' }]]);
  assert.deepEqual(status('<tool_call>{"name": "a", "arguments": {"r": "time "12": 00"}}</tool_call>'), [['invalid_json', null]]);
  // followed by '"', '{' or '[': a missing comma is as likely as a literal quote
  assert.deepEqual(status('<tool_call>{"name": "a", "arguments": {"r": ["x" "y"]}}</tool_call>'), [['invalid_json', null]]);
  assert.deepEqual(status('<tool_call>{"name": "a", "arguments": {"r": "x" {"y": 1}}}</tool_call>'), [['invalid_json', null]]);
  // keys and single-quoted strings are never repaired this way
  assert.deepEqual(status('<tool_call>{"name": "a", "arguments": {"k"ey": 1}}</tool_call>'), [['invalid_json', null]]);
  assert.deepEqual(status("<tool_call>{'name': 'a', 'arguments': {'r': 'it's'}}</tool_call>"), [['invalid_json', null]]);
  // strict JSON that parses is never reinterpreted
  assert.deepEqual(calls('<tool_call>{"name": "a", "arguments": {"r": "x", "s": "y"}}</tool_call>')[0]!.arguments, { r: 'x', s: 'y' });
  // a quote at the end of the text ends the string (the block is truncated, not repaired)
  assert.deepEqual(calls('<tool_call>{"name": "a", "arguments": {"r": "x "')[0]!.status, 'truncated');
});

const HOSTILE = [
  'pre <function=check_scene_prior>{"predicted_scene":"flooded"}</function> post',
  '<function name="check_confusion_risk">{"a": "b"}</function><function name="a"b">{}</function>',
  '<think>r <function=x>{}</function></think><function=a><function=b>{"s": "</function>"}</function></function>',
  '<tool_call>{"name": "a", "arguments": {"r": "sign "STOP" é"}}</tool_call><function=c>{"x": 1',
  '<function=a>{"k": "v"}<function name=\'b\'>{}</function>',
];

function feedPieces(impl: 'native' | 'typescript', mode: 'sse' | 'text', pieces: Uint8Array[], opts: StreamEngineOptions): StreamResult {
  const e = createStreamEngine(impl);
  const h = e.open({ ...opts, mode });
  pieces.forEach((p, i) => e.feed([{ handle: h, chunk: p, timeMs: i }]));
  return e.finish(h);
}

function sseOf(text: string): Buffer {
  // one event per 3 characters, as a model server streams tokens
  let body = '';
  for (let i = 0; i < text.length; i += 3) body += `data: ${JSON.stringify({ choices: [{ index: 0, delta: { content: text.slice(i, i + 3) } }] })}\n\n`;
  return Buffer.from(body + 'data: [DONE]\n\n');
}

test('split at every byte (text; SSE every 5th and byte by byte) gives what the whole gives, on both engines', () => {
  requireNative();
  const opts: StreamEngineOptions = { ...base, offeredTools: ['check_scene_prior', 'a'] };
  const strip = (r: StreamResult) => ({ calls: r.toolCalls, content: r.content, reasoning: r.reasoning, text: r.text });
  for (const text of HOSTILE) {
    for (const mode of ['text', 'sse'] as const) {
      const bytes = mode === 'text' ? Buffer.from(text) : sseOf(text);
      const whole = strip(feedPieces('native', mode, [bytes], opts));
      assert.deepEqual(whole.calls, both(text, opts).toolCalls, text);
      assert.deepEqual(strip(feedPieces('typescript', mode, [bytes], opts)), whole, text);
      // every byte of the text; in SSE (tags already cross events) every 5th byte of the body
      for (let k = 0; k <= bytes.length; k += mode === 'text' ? 1 : 5) {
        const pieces = [bytes.subarray(0, k), bytes.subarray(k)];
        for (const impl of ['native', 'typescript'] as const) assert.deepEqual(strip(feedPieces(impl, mode, pieces, opts)), whole, `${impl} ${mode} split at ${k}: ${text}`);
      }
      const bytewise = Array.from(bytes, (_, i) => bytes.subarray(i, i + 1));
      for (const impl of ['native', 'typescript'] as const) assert.deepEqual(strip(feedPieces(impl, mode, bytewise, opts)), whole, `${impl} ${mode} byte by byte: ${text}`);
    }
  }
});

test('tce extract: a raw text line with <function=...> prints the call with its status; --tools sets the offered set', async () => {
  const line = '<function=check_scene_prior>{"predicted_scene":"flooded"}</function>\n';
  const r = await tce(['extract'], { input: line });
  assert.equal(r.status, 0, r.stderr);
  const out = JSON.parse(r.stdout) as { tool_calls: unknown[]; content: string };
  assert.deepEqual(out.tool_calls, [{ name: 'check_scene_prior', arguments: { predicted_scene: 'flooded' }, status: 'function_eq', repairs: [] }]);
  const r2 = await tce(['extract', '--tools', 'check_confusion_risk', '--engine', 'typescript'], { input: line });
  assert.equal((JSON.parse(r2.stdout) as { tool_calls: Array<{ status: string }> }).tool_calls[0]!.status, 'not_offered');
  // a line starting with '{' is still JSON, with errors naming the line
  const bad = await tce(['extract'], { input: 'plain text\n{"txt": 1}\n' });
  assert.equal(bad.status, 1);
  assert.match(bad.stderr, /<stdin> line 2: none of the fields/);
});
