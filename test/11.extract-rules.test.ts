// Hand-written cases for every tool-call rule of issue 4, run on both
// engines (native addon and TypeScript twin) which must agree.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { extractTexts } from '../src/extract/extract';
import type { ExtractResult } from '../src/extract/types';
import { requireNative } from '../src/native/loader';

const TOOLS = ['check_scene_prior', 'check_confusion_risk'];
const opts = { knownTools: TOOLS, answerKind: 'verify' as const };

/** Extracts with both engines, checks they agree, returns the result. */
function both(text: string): ExtractResult {
  requireNative();
  const [n] = extractTexts([text], opts, 'native');
  const [t] = extractTexts([text], opts, 'typescript');
  assert.deepEqual(n, t, `engines disagree on ${JSON.stringify(text)}`);
  return n!;
}
const calls = (text: string) => both(text).toolCalls.map((c) => ({ name: c.name, arguments: c.arguments, status: c.status, repairs: c.repairs }));

test('a well-formed block with newlines around the JSON is ok, raw kept verbatim', () => {
  const r = both('<tool_call>\n{"name": "check_scene_prior", "arguments": {"predicted_scene": "incident_zone"}}\n</tool_call>');
  assert.deepEqual(r.toolCalls, [{ name: 'check_scene_prior', arguments: { predicted_scene: 'incident_zone' }, status: 'ok', repairs: [], raw: '\n{"name": "check_scene_prior", "arguments": {"predicted_scene": "incident_zone"}}\n', source: 'text' }]);
  assert.equal(r.content, '');
});

test('several blocks, two adjacent, an array of calls in one block; text around is content', () => {
  const r = both('Let me check.<tool_call>{"name":"a","arguments":{"x":1}}</tool_call><tool_call>[{"name":"b","arguments":{}},{"name":"c","arguments":{"y":[true,null]}}]</tool_call> then FINAL_SCENE: nominal');
  assert.deepEqual(r.toolCalls.map((c) => [c.name, c.arguments, c.status]), [['a', { x: 1 }, 'ok'], ['b', {}, 'ok'], ['c', { y: [true, null] }, 'ok']]);
  assert.equal(r.content, 'Let me check. then FINAL_SCENE: nominal');
});

test('the scan is JSON-string-aware: a closing tag or braces inside a string do not end the block', () => {
  assert.deepEqual(calls('<tool_call>{"name":"a","arguments":{"note":"</tool_call> }}"}}</tool_call>tail'), [{ name: 'a', arguments: { note: '</tool_call> }}' }, status: 'ok', repairs: [] }]);
  assert.equal(both('<tool_call>{"name":"a","arguments":{"q":"x\\"</tool_call>"}}</tool_call>tail').content, 'tail');
});

test('an unbalanced quote falls back to the first literal closing tag', () => {
  // the quote in it"s cannot end the string: repaired (unescaped_quote, test 15)
  const r = both('<tool_call>{"name": "a", "arguments": {"t": "it"s"}}</tool_call>after');
  assert.deepEqual([r.toolCalls[0]!.status, r.toolCalls[0]!.arguments], ['repaired', { t: 'it"s' }]);
  assert.equal(r.content, 'after');
  const r2 = both('<tool_call>{"name": "a", "arguments": {"t": "it", s"}}</tool_call>after');
  assert.equal(r2.toolCalls[0]!.status, 'invalid_json');
  assert.equal(r2.content, 'after');
});

test('no closing tag: complete JSON is unterminated, incomplete JSON is truncated', () => {
  assert.deepEqual(calls('<tool_call>{"name":"a","arguments":{"x":1}}\n'), [{ name: 'a', arguments: { x: 1 }, status: 'unterminated', repairs: [] }]);
  assert.deepEqual(calls('<tool_call>{"name":"a","arguments":{"x":1'), [{ name: 'a', arguments: { x: 1 }, status: 'truncated', repairs: ['missing_brace'] }]);
  assert.deepEqual(calls('<tool_call>{"name":"a","argum'), [{ name: null, arguments: null, status: 'truncated', repairs: [] }]);
  // the closing tag inside a string of a truncated block does not close it
  assert.equal(calls('<tool_call>{"name":"a","arguments":{"x": "</tool_call>"')[0]!.status, 'truncated');
});

test('repairs: single quotes, trailing commas, Python literals, raw newlines, missing braces', () => {
  assert.deepEqual(calls("<tool_call>{'name': 'a', 'arguments': {'s': 'it\\'s'}}</tool_call>"), [{ name: 'a', arguments: { s: "it's" }, status: 'repaired', repairs: ['single_quotes'] }]);
  assert.deepEqual(calls('<tool_call>{"name":"a","arguments":{"l":[1,2,],},}</tool_call>'), [{ name: 'a', arguments: { l: [1, 2] }, status: 'repaired', repairs: ['trailing_comma'] }]);
  assert.deepEqual(calls('<tool_call>{"name":"a","arguments":{"t":True,"f":False,"n":None}}</tool_call>'), [{ name: 'a', arguments: { t: true, f: false, n: null }, status: 'repaired', repairs: ['python_literals'] }]);
  assert.deepEqual(calls('<tool_call>{"name":"a","arguments":{"r":"line1\nline2"}}</tool_call>'), [{ name: 'a', arguments: { r: 'line1\nline2' }, status: 'repaired', repairs: ['raw_newline'] }]);
  assert.deepEqual(calls('<tool_call>{"name":"a","arguments":{"x":{"y":1</tool_call>'), [{ name: 'a', arguments: { x: { y: 1 } }, status: 'repaired', repairs: ['missing_brace'] }]);
});

test('repairs: arguments as a JSON string, parameters instead of arguments, a code fence inside the block', () => {
  assert.deepEqual(calls('<tool_call>{"name":"a","arguments":"{\\"x\\": 1}"}</tool_call>'), [{ name: 'a', arguments: { x: 1 }, status: 'repaired', repairs: ['arguments_string'] }]);
  assert.deepEqual(calls('<tool_call>{"name":"a","parameters":{"x":2}}</tool_call>'), [{ name: 'a', arguments: { x: 2 }, status: 'repaired', repairs: ['parameters_key'] }]);
  assert.deepEqual(calls('<tool_call>\n```json\n{"name":"a","arguments":{}}\n```\n</tool_call>'), [{ name: 'a', arguments: {}, status: 'repaired', repairs: ['code_fence'] }]);
  assert.deepEqual(calls('<tool_call>{"name":"a"}</tool_call>'), [{ name: 'a', arguments: {}, status: 'repaired', repairs: ['missing_arguments'] }]);
});

test('unrepairable JSON is invalid_json with the raw text kept; the other blocks still count', () => {
  const r = both('<tool_call>{name: a}</tool_call><tool_call>{"name":"b","arguments":{}}</tool_call>');
  assert.deepEqual(r.toolCalls.map((c) => [c.name, c.status, c.raw]), [[null, 'invalid_json', '{name: a}'], ['b', 'ok', '{"name":"b","arguments":{}}']]);
  assert.equal(calls('<tool_call>{"arguments":{}}</tool_call>')[0]!.status, 'invalid_json');
  assert.equal(calls('<tool_call>{"name":"a","arguments":"{oops"}</tool_call>')[0]!.status, 'invalid_json');
  assert.equal(calls('<tool_call>[]</tool_call>')[0]!.status, 'invalid_json');
});

test('calls inside <think> are reasoning (in_reasoning), also when only </think> appears', () => {
  const r = both('<think>I could <tool_call>{"name":"a","arguments":{}}</tool_call></think>Answer <tool_call>{"name":"b","arguments":{}}</tool_call>');
  assert.deepEqual(r.toolCalls.map((c) => [c.name, c.status]), [['a', 'in_reasoning'], ['b', 'ok']]);
  assert.equal(r.reasoning, 'I could <tool_call>{"name":"a","arguments":{}}</tool_call>');
  assert.equal(r.content, 'Answer ');
  const r2 = both('thinking here</think>\nFINAL_SCENE: flooded');
  assert.equal(r2.reasoning, 'thinking here');
  assert.equal(r2.content, '\nFINAL_SCENE: flooded');
});

test('untagged: a fenced json block or a bare object naming a known tool is a call; other JSON is not', () => {
  assert.deepEqual(calls('I will call:\n```json\n{"name": "check_scene_prior", "arguments": {"predicted_scene": "flooded"}}\n```'), [{ name: 'check_scene_prior', arguments: { predicted_scene: 'flooded' }, status: 'untagged', repairs: [] }]);
  assert.deepEqual(calls('Calling {"name": "check_confusion_risk", "arguments": {"predicted_scene": "flagger"}} now'), [{ name: 'check_confusion_risk', arguments: { predicted_scene: 'flagger' }, status: 'untagged', repairs: [] }]);
  assert.deepEqual(calls('Data: {"name": "unknown_tool", "arguments": {}} and {"a": 1} and ```json\n{"x": 2}\n```'), []);
  // a tag anywhere switches the fallback off
  assert.deepEqual(calls('{"name": "check_scene_prior", "arguments": {}} <tool_call>{"name":"b","arguments":{}}</tool_call>').map((c) => c.name), ['b']);
});

test('whole-text batches: one native call, results in input order', () => {
  const texts = ['<tool_call>{"name":"a","arguments":{}}</tool_call>', 'plain', '<think>x</think>y'];
  const n = extractTexts(texts, opts, 'native');
  assert.deepEqual(n, extractTexts(texts, opts, 'typescript'));
  assert.deepEqual(n.map((r) => r.content), ['', 'plain', 'y']);
});
