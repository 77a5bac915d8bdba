// Inline SVG charts for the HTML and profile reports: no scripts, no
// network, every label escaped. Each chart is an <svg class="chart"> with one
// element of class "mark" per data mark, so a renderer test can count them.
import { escapeHtml as e } from './escape';

const PALETTE = ['#4e79a7', '#f28e2b', '#59a14f', '#e15759', '#76b7b2', '#edc948', '#b07aa1'];

export interface BarGroup { label: string; values: Array<{ series: string; value: number; lo?: number; hi?: number }> }

/** Grouped vertical bars with optional interval whiskers. */
export function groupedBars(title: string, groups: BarGroup[], opts: { max?: number; format?: (x: number) => string; refLine?: { value: number; label: string } } = {}): string {
  const series = [...new Set(groups.flatMap((g) => g.values.map((v) => v.series)))];
  const fmt = opts.format ?? ((x: number) => x.toFixed(3));
  const all = groups.flatMap((g) => g.values.flatMap((v) => [v.value, v.hi ?? v.value])).filter(Number.isFinite);
  const max = opts.max ?? Math.max(1e-9, ...all) * 1.1;
  const W = Math.max(480, 80 + groups.length * (series.length * 22 + 18), 80 + series.reduce((a, x) => a + 30 + x.length * 6, 0)), H = 300, top = 30, bottom = 70, left = 50;
  const ph = H - top - bottom;
  const y = (v: number): number => top + ph - (Math.max(0, Math.min(v, max)) / max) * ph;
  const parts: string[] = [];
  parts.push(`<text x="${left}" y="18" class="title">${e(title)}</text>`);
  for (let k = 0; k <= 4; k++) {
    const v = (max * k) / 4;
    parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y(v)}" y2="${y(v)}" class="grid"/><text x="${left - 4}" y="${y(v) + 4}" class="axis" text-anchor="end">${e(fmt(v))}</text>`);
  }
  let x = left + 10;
  for (const g of groups) {
    const x0 = x;
    for (const v of g.values) {
      const color = PALETTE[series.indexOf(v.series) % PALETTE.length]!;
      if (Number.isFinite(v.value)) {
        parts.push(`<rect class="mark" x="${x}" y="${y(v.value)}" width="18" height="${Math.max(0, top + ph - y(v.value))}" fill="${color}"><title>${e(`${g.label} ${v.series}: ${fmt(v.value)}${v.lo !== undefined ? ` (95% CI ${fmt(v.lo)}-${fmt(v.hi ?? NaN)})` : ''}`)}</title></rect>`);
        if (v.lo !== undefined && v.hi !== undefined && Number.isFinite(v.lo)) {
          parts.push(`<line class="whisker" x1="${x + 9}" x2="${x + 9}" y1="${y(v.lo)}" y2="${y(v.hi)}"/><line class="whisker" x1="${x + 4}" x2="${x + 14}" y1="${y(v.lo)}" y2="${y(v.lo)}"/><line class="whisker" x1="${x + 4}" x2="${x + 14}" y1="${y(v.hi)}" y2="${y(v.hi)}"/>`);
        }
      }
      x += 22;
    }
    parts.push(`<text class="axis" transform="translate(${(x0 + x) / 2 - 4},${top + ph + 12}) rotate(35)">${e(g.label)}</text>`);
    x += 18;
  }
  if (opts.refLine) parts.push(`<line x1="${left}" x2="${W - 10}" y1="${y(opts.refLine.value)}" y2="${y(opts.refLine.value)}" class="ref"/><text x="${W - 12}" y="${y(opts.refLine.value) - 4}" class="axis" text-anchor="end">${e(opts.refLine.label)}</text>`);
  // Legend entries are spaced by their label length so long tool names do not overlap.
  let lx = left;
  const legend = series.map((s, i) => {
    const item = `<rect x="${lx}" y="${H - 16}" width="10" height="10" fill="${PALETTE[i % PALETTE.length]}"/><text x="${lx + 14}" y="${H - 7}" class="axis">${e(s)}</text>`;
    lx += 30 + s.length * 6;
    return item;
  }).join('');
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${e(title)}">${parts.join('')}${legend}</svg>`;
}

/** A confusion matrix as a heat map (rows GT, columns predicted). */
export function heatmap(title: string, rows: string[], cols: string[], counts: number[][]): string {
  const cw = 62, ch = 22, left = 100, top = 60;
  const W = left + cols.length * cw + 10, H = top + rows.length * ch + 10;
  const max = Math.max(1, ...counts.flat());
  const parts = [`<text x="4" y="16" class="title">${e(title)}</text>`];
  // Column labels are slanted so long class names do not run into each other.
  cols.forEach((c, j) => parts.push(`<text class="axis" transform="translate(${left + j * cw + 8},${top - 6}) rotate(-30)">${e(c)}</text>`));
  rows.forEach((r, i) => {
    parts.push(`<text class="axis" x="${left - 6}" y="${top + i * ch + 16}" text-anchor="end">${e(r)}</text>`);
    cols.forEach((_, j) => {
      const v = counts[i]?.[j] ?? 0;
      const a = v === 0 ? 0 : 0.12 + 0.88 * (v / max);
      parts.push(`<rect class="mark" x="${left + j * cw}" y="${top + i * ch}" width="${cw - 2}" height="${ch - 2}" fill="rgba(78,121,167,${a.toFixed(3)})" stroke="${r === cols[j] ? '#333' : 'none'}"><title>${e(`GT ${r} -> ${cols[j]}: ${v}`)}</title></rect><text x="${left + j * cw + cw / 2}" y="${top + i * ch + 15}" text-anchor="middle" class="cell">${v}</text>`);
    });
  });
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${e(title)}">${parts.join('')}</svg>`;
}

export interface PercentileRow { label: string; p10: number; p25: number; p50: number; p95: number; p99: number; mean: number }

/** Horizontal latency distributions: p10-p99 line, p25-p95 box, p50 tick, mean dot; a 5 s reference line. */
export function percentilePlot(title: string, rows: PercentileRow[], unit = 'ms'): string {
  const left = 140, right = 20, top = 30, rh = 22;
  const W = 720, H = top + rows.length * rh + 30;
  const finite = rows.flatMap((r) => [r.p99, r.mean]).filter(Number.isFinite);
  const max = Math.max(5500, ...finite) * 1.05;
  const x = (v: number): number => left + (Math.max(0, v) / max) * (W - left - right);
  const parts = [`<text x="4" y="16" class="title">${e(title)}</text>`];
  rows.forEach((r, i) => {
    const cy = top + i * rh + 10;
    parts.push(`<text class="axis" x="${left - 6}" y="${cy + 4}" text-anchor="end">${e(r.label)}</text>`);
    if (!Number.isFinite(r.p50)) { parts.push(`<text class="axis" x="${left + 4}" y="${cy + 4}">no data</text>`); return; }
    parts.push(`<line class="whisker" x1="${x(r.p10)}" x2="${x(r.p99)}" y1="${cy}" y2="${cy}"/>`
      + `<rect class="mark" x="${x(r.p25)}" y="${cy - 7}" width="${Math.max(1, x(r.p95) - x(r.p25))}" height="14" fill="#76b7b2"><title>${e(`${r.label}: p10 ${r.p10.toFixed(0)}, p25 ${r.p25.toFixed(0)}, p50 ${r.p50.toFixed(0)}, p95 ${r.p95.toFixed(0)}, p99 ${r.p99.toFixed(0)} ${unit}`)}</title></rect>`
      + `<line x1="${x(r.p50)}" x2="${x(r.p50)}" y1="${cy - 8}" y2="${cy + 8}" stroke="#222" stroke-width="2"/><circle cx="${x(r.mean)}" cy="${cy}" r="3" fill="#e15759"/>`);
  });
  const five = x(5000);
  parts.push(`<line class="ref" x1="${five}" x2="${five}" y1="${top - 6}" y2="${H - 24}"/><text class="axis" x="${five + 3}" y="${top - 8}">5 s</text>`);
  for (let k = 0; k <= 4; k++) { const v = (max * k) / 4; parts.push(`<text class="axis" x="${x(v)}" y="${H - 8}" text-anchor="middle">${e(`${Math.round(v)} ${unit}`)}</text>`); }
  return `<svg class="chart" xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" role="img" aria-label="${e(title)}">${parts.join('')}</svg>`;
}

/** Shared chart styles (inline in each page; also embedded in standalone SVG files). */
export const CHART_CSS = `.chart{background:#fff;margin:8px 0;font-family:system-ui,sans-serif;max-width:100%;height:auto}
.chart .title{font-size:13px;font-weight:600}.chart .axis{font-size:10px;fill:#444}.chart .cell{font-size:10px;fill:#111}
.chart .grid{stroke:#e5e5e5}.chart .whisker{stroke:#333;stroke-width:1.2}.chart .ref{stroke:#e15759;stroke-dasharray:4 3}`;

/** A chart as a standalone .svg file (for Markdown image links). */
export function standaloneSvg(svg: string): string {
  return svg.replace(/^<svg([^>]*)>/, `<svg$1><style>${CHART_CSS}</style>`);
}
