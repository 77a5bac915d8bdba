// Model-written text in the Markdown report: control characters visible,
// no links with script or data schemes, no new links at all.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { escapeMd } from '../src/report/escape';
import { escapeControl, stripUrlCredentials, stripCredentialsDeep } from '../src/util/text';

test('L2: ESC, BEL and NUL are written visibly in Markdown and terminal text', () => {
  const md = escapeMd('a\u001b[31mred\u0007b\u0000c\u009bd');
  assert.equal(md, 'a\\u001b[31mred\\u0007b\\u0000c\\u009bd');
  assert.doesNotMatch(md, /[\u0000-\u001f\u007f-\u009f]/);
  assert.equal(escapeControl('line1\n\tline2\u001b'), 'line1\n\tline2\\u001b');
  assert.equal(escapeControl('x\ny', { oneLine: true }), 'x\\u000ay');
});

test('L2: javascript:, data: and vbscript: links are dropped from Markdown, keeping their text', () => {
  for (const url of ['javascript:alert(document.cookie)', 'JavaScript:void(0)', 'data:text/html;base64,PHNjcmlwdD4=', 'vbscript:msgbox', ' javascript:x']) {
    const md = escapeMd(`see [click here](${url}) now`);
    assert.doesNotMatch(md, /\]\(/, md);
    assert.doesNotMatch(md, /(javascript|data|vbscript):/i, md);
    assert.match(md, /click here/);
  }
  // an ordinary link is not made clickable either: model text forms no links
  assert.equal(escapeMd('[ok](https://example.com)'), '[ok]\\(https://example.com)');
  assert.equal(escapeMd('[simulated] Outcome 1'), '[simulated] Outcome 1', 'plain brackets stay');
});

test('L1: credentials are stripped from URLs, everything else kept', () => {
  assert.equal(stripUrlCredentials('http://user:s3cret@node7:8000/v1'), 'http://node7:8000/v1');
  assert.equal(stripUrlCredentials('https://tok@api.example.com/v1/'), 'https://api.example.com/v1/');
  assert.equal(stripUrlCredentials('http://node7:8000/v1'), 'http://node7:8000/v1');
  assert.equal(stripUrlCredentials('not a url @ all'), 'not a url @ all');
  assert.deepEqual(stripCredentialsDeep({ a: [{ url: 'http://u:p@h/v1' }], n: 1, s: 'x' }), { a: [{ url: 'http://h/v1' }], n: 1, s: 'x' });
});
