import type { Command } from '../command';
import { CONFIG_OPTION, configFrom } from '../common-options';
import { UsageError } from '../../util/errors';
import { escapeControl } from '../../util/text';
import { selfConsistencyDbPath, selfConsistencyOptions } from '../../data/load';
import { inspectSelfConsistencyDb, type ScInspection } from '../../data/sc-inspect';
import { shownValue } from '../../data/sc-values';
import { SC_COLUMN_NAMES, SC_COLUMNS } from '../../config/self-consistency';

const safe = (s: string): string => escapeControl(s, { oneLine: true });
const plural = (n: number | null, one: string): string => (n === null ? `? ${one}s` : `${n} ${one}${n === 1 ? '' : 's'}`);

function tableLines(r: ScInspection): string[] {
  const w = Math.max(6, ...r.tables.map((t) => safe(t.name).length));
  const lines = [`tables (${r.tables.length}):`, ...r.tables.map((t) => `  ${safe(t.name).padEnd(w)}  ${plural(t.rows, 'row').padEnd(12)}  ${t.columns.map(safe).join(', ')}`)];
  const found = r.layout.columns.length > 0;
  lines.push('', `chosen table: ${safe(r.layout.table)}${found ? '' : ' (not in this file)'}`);
  return lines;
}

function columnLines(r: ScInspection, configured: Partial<Record<string, string | null | undefined>>): string[] {
  const l = r.layout;
  if (l.columns.length === 0) return [];
  const w = Math.max(...SC_COLUMN_NAMES.map((c) => c.length));
  const lines = ['', 'columns (ours -> theirs):'];
  for (const ours of SC_COLUMN_NAMES) {
    const theirs = l.col[ours];
    const missing = l.missing[ours];
    const state = theirs !== undefined ? `-> ${safe(theirs)}`
      : missing !== undefined ? `MISSING (looked for '${safe(missing)}')`
        : configured[ours] === null ? 'absent (mapping: null)' : 'absent (not in the table)';
    lines.push(`  ${ours.padEnd(w)}  ${state}${SC_COLUMNS[ours].need === 'required' ? '  [required]' : ''}`);
  }
  return lines;
}

function valueLines(r: ScInspection): string[] {
  const lines: string[] = [];
  if (r.layout.col.experiment_id) {
    const ex = r.experiments.map((e) => `${safe(e.id)} (${plural(e.rows, 'row')})`).join(', ') || 'none';
    lines.push('', `experiments: ${ex}; read: ${r.experimentId === null ? 'none chosen (values below count every row)' : safe(r.experimentId)}`);
  } else if (r.layout.columns.length) {
    lines.push('', 'experiments: no experiment_id column (every row is the baseline)');
  }
  for (const lab of r.labels) {
    lines.push('', `${lab.ours} <- '${safe(lab.theirs)}' (${lab.label}, ${plural(lab.values.length, 'distinct value')}):`);
    const w = Math.max(...lab.values.map((v) => shownValue(v.value).length));
    for (const v of lab.values) {
      // 'null' is the actions' "no action"; a missing value is NULL.
      const to = v.mapped === undefined ? 'UNMAPPED' : v.mapped === null ? 'NULL (missing)' : v.mapped === 'null' ? 'null (no action)' : v.mapped;
      lines.push(`  ${shownValue(v.value).padEnd(w)}  ${String(v.rows).padStart(7)}  -> ${to}`);
    }
  }
  return lines;
}

export const inspectDbCommand: Command = {
  positionals: '[FILE]',
  description: 'FILE is a self_consistency.db (default: dataset.selfConsistencyDb, else the fixture\'s). Prints what the importer would read with the config\'s dataset.selfConsistency mapping: every table with its row count and columns, the chosen table, each of our columns resolved to theirs (or absent), the distinct values of the label columns with the enum each maps to (UNMAPPED: the import fails on it), the experiments, and whether the import succeeds; exit 1 with the import\'s own error if not. The file is opened read-only.',
  allowPositionals: true,
  options: { ...CONFIG_OPTION },
  async run(args) {
    const [fileArg, ...extra] = args.positionals;
    if (extra.length) throw new UsageError('inspect-db takes one FILE (a self_consistency.db)');
    const { config } = configFrom(args);
    const file = fileArg ?? selfConsistencyDbPath(config);
    const opts = selfConsistencyOptions(config);
    const r = inspectSelfConsistencyDb(file, opts);
    const lines = [`${safe(file)}`, '', ...tableLines(r), ...columnLines(r, opts.columns ?? {}), ...valueLines(r), ''];
    lines.push(r.error ? 'import: would FAIL (the error follows)' : `import: ok, ${plural(r.samples, 'sample')} with their greedy predictions`);
    process.stdout.write(lines.join('\n') + '\n');
    if (r.error) throw r.error;
    return 0;
  },
};
