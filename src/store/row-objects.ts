// Many rows read as objects. better-sqlite3 (12.x, util/row-builder.cpp)
// makes each row object with v8::Object::New from its names and values,
// which V8 builds in dictionary mode: on the analysis's reads that is ~40%
// of the read's time (docs/performance.md, stop 30), and every later
// property read is a dictionary lookup. Here rows come raw (arrays) and one
// function per column list turns each into an object literal, so all the
// rows of a query share one hidden class. The objects hold the same keys in
// the same order as better-sqlite3's (a repeated column name: its first
// place, the last value, in both).
import type { Statement } from 'better-sqlite3';

type Build = (raw: unknown[]) => object;

const builders = new Map<string, Build>();

function builderFor(columns: readonly string[]): Build {
  const key = columns.join('\u0000');
  let build = builders.get(key);
  if (!build) {
    // The names are the query's own columns, never data; JSON.stringify
    // makes any of them a quoted key.
    // eslint-disable-next-line @typescript-eslint/no-implied-eval
    build = new Function('r', `return { ${columns.map((c, i) => `${JSON.stringify(c)}: r[${i}]`).join(', ')} };`) as Build;
    builders.set(key, build);
  }
  return build;
}

function rawRows(stmt: Statement): { stmt: Statement; build: Build } {
  return { stmt: stmt.raw(true), build: builderFor(stmt.columns().map((c) => c.name)) };
}

/** stmt.all(...params) as objects. The statement is left in raw mode. */
export function allRows<T>(stmt: Statement, ...params: unknown[]): T[] {
  const r = rawRows(stmt);
  return (r.stmt.all(...params) as unknown[][]).map(r.build) as T[];
}

/** stmt.iterate(...params) as objects. The statement is left in raw mode. */
export function* iterateRows<T>(stmt: Statement, ...params: unknown[]): Generator<T> {
  const r = rawRows(stmt);
  for (const raw of r.stmt.iterate(...params) as Iterable<unknown[]>) yield r.build(raw) as T;
}
