// How a simulated model writes a tool call: the Qwen3 form
// <tool_call>\n{"name": ..., "arguments": {...}}\n</tool_call>, or one of the
// malformed variants small models produce, each of which the extractor must
// repair or reject with a typed status.

export const MALFORMATIONS = [
  'single_quotes',   // {'name': 'x', ...}            repairable
  'trailing_comma',  // {"a": 1,}                      repairable
  'python_literals', // None / True instead of null / true   repairable
  'missing_brace',   // one closing brace short        repairable
  'arguments_string',// "arguments": "{\"a\": 1}"      repairable
  'parameters_key',  // "parameters" instead of "arguments"   repairable
  'code_fence',      // ```json ... ``` inside the tags      repairable
  'truncated',       // cut off mid-JSON, no closing tag     rejected
  'invalid_json',    // unquoted name, garbage             rejected
  'in_think',        // the call sits inside <think>...</think>  rejected
] as const;
export type Malformation = (typeof MALFORMATIONS)[number];

export type Args = Record<string, string | number>;

/** JSON with the spacing Qwen models produce (", " and ": "). */
export function qwenJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return `[${v.map(qwenJson).join(', ')}]`;
  return `{${Object.entries(v as Record<string, unknown>).map(([k, x]) => `${JSON.stringify(k)}: ${qwenJson(x)}`).join(', ')}}`;
}

const wrap = (body: string) => `<tool_call>\n${body}\n</tool_call>`;

export function toolCallText(name: string, args: Args, bad: Malformation | null): string {
  const good = qwenJson({ name, arguments: args });
  switch (bad) {
    case null: return wrap(good);
    case 'single_quotes': return wrap(good.replace(/"/g, "'"));
    case 'trailing_comma': return wrap(`{"name": ${JSON.stringify(name)}, "arguments": ${qwenJson(args).replace(/}$/, ',}')},}`);
    case 'python_literals': {
      const py = Object.fromEntries(Object.entries(args).map(([k, v]) => [k, v === 'null' ? '\u0000None' : v]));
      return wrap(qwenJson({ name, arguments: { ...py, strict: '\u0000True' } }).replace(/"\\u0000(None|True)"/g, '$1'));
    }
    case 'missing_brace': return wrap(good.slice(0, -1));
    case 'arguments_string': return wrap(`{"name": ${JSON.stringify(name)}, "arguments": ${JSON.stringify(qwenJson(args))}}`);
    case 'parameters_key': return wrap(qwenJson({ name, parameters: args }));
    case 'code_fence': return wrap('```json\n' + good + '\n```');
    case 'truncated': return `<tool_call>\n${good.slice(0, Math.max(12, Math.floor(good.length * 0.6)))}`;
    case 'invalid_json': return wrap(`{"name": ${name}, "arguments": ${qwenJson(args).replace(/": "/, '": ')}}`);
    case 'in_think': return `<think>\nI should check this first. ${wrap(good)}\n</think>`;
  }
}
