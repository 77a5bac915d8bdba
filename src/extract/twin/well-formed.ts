// Lone UTF-16 surrogates cannot cross into UTF-8 (the C++ core); both engines
// replace them with U+FFFD. Node 20 has String.prototype.toWellFormed, the
// ES2023 lib typings do not.
const native = (String.prototype as unknown as { toWellFormed?: () => string }).toWellFormed;

export function wellFormed(s: string): string {
  return native ? native.call(s) : s.replace(/[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g, '\ufffd');
}
