/**
 * The status page (pure): one self-contained HTML file from the same rows
 * `status --json` prints, so the two never disagree. Inline CSS, JS and SVG,
 * nothing fetched at view time (it opens from disk or a mail attachment). A
 * sortable coverage table, worst rows first; each verdict in colour *and* as
 * a word; a filter box; per guest, archive size and backup duration over the
 * generations as small SVG charts with axis labels and units. Readable at
 * 375 px and on a dark background (prefers-color-scheme).
 */
import { formatBytes } from '../format.js';
import type { CoverageRow, Verdict } from './coverage.js';

/** One row of the page (a CoverageRow fits). */
export type StatusPageRow = Pick<
  CoverageRow,
  'cluster' | 'node' | 'vmid' | 'name' | 'type' | 'state' | 'verdict' | 'copies'
> & {
  reason?: string;
  newest: {
    generation: string;
    time: string;
    ageSeconds: number;
    size: number;
    hasSha256: boolean;
  } | null;
  /** Saved copies, newest first (as coverage() gives them). */
  history: { generation: string; time: string; size: number; durationSeconds?: number }[];
};

/** The last run, as its report summarises it. */
export interface StatusPageLastRun {
  runId: string;
  finishedAt: string;
  exitCode: number;
  summary: { saved: number; failed: number; notStarted: number; bytesSaved: number };
}

export interface StatusPageInput {
  rows: readonly StatusPageRow[];
  lastRun?: StatusPageLastRun;
  /** When the page was made (shown, and the reference for "age"). */
  generatedAt: Date;
  title?: string;
}

/** Worst first: what needs a human comes to the top. */
const VERDICT_RANK: Record<Verdict, number> = {
  missing: 0,
  stale: 1,
  gone: 2,
  ok: 3,
  unselected: 4,
};

const esc = (s: string): string =>
  s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c,
  );

/** `93600` → `1d 2h`; `4000` → `1h 6m`; `59` → `59s`. */
export function humanAge(seconds: number): string {
  const d = Math.floor(seconds / 86_400);
  const h = Math.floor((seconds % 86_400) / 3600);
  const m = Math.floor((seconds % 3600) / 60);
  if (d > 0) return `${d}d ${h}h`;
  if (h > 0) return `${h}h ${m}m`;
  if (m > 0) return `${m}m`;
  return `${seconds}s`;
}

const CHART = { w: 320, h: 120, left: 52, right: 8, top: 10, bottom: 28 };

/** A line chart of `points` (oldest first) with a y axis in `unit` and generation names below. */
function chart(
  kind: 'size' | 'duration',
  title: string,
  points: { label: string; value: number }[],
  format: (v: number) => string,
): string {
  const { w, h, left, right, top, bottom } = CHART;
  const max = Math.max(...points.map((p) => p.value), 0) || 1;
  const plotW = w - left - right;
  const plotH = h - top - bottom;
  const x = (i: number) =>
    left + (points.length === 1 ? plotW / 2 : (i * plotW) / (points.length - 1));
  const y = (v: number) => top + plotH - (v / max) * plotH;
  const coords = points.map((p, i) => `${x(i).toFixed(1)},${y(p.value).toFixed(1)}`);
  const first = points[0]?.label ?? '';
  const last = points[points.length - 1]?.label ?? '';
  return `<figure class="chart">
<svg class="chart-${kind}" viewBox="0 0 ${w} ${h}" role="img" aria-label="${esc(title)}" data-points="${points.length}">
<title>${esc(title)}</title>
<line class="axis" x1="${left}" y1="${top}" x2="${left}" y2="${top + plotH}"/>
<line class="axis" x1="${left}" y1="${top + plotH}" x2="${w - right}" y2="${top + plotH}"/>
<text class="tick" x="${left - 4}" y="${top + 4}" text-anchor="end">${esc(format(max))}</text>
<text class="tick" x="${left - 4}" y="${top + plotH}" text-anchor="end">0</text>
<text class="tick" x="${points.length === 1 ? x(0) : left}" y="${h - 14}" text-anchor="${points.length === 1 ? 'middle' : 'start'}">${esc(first)}</text>
<text class="tick" x="${w - right}" y="${h - 14}" text-anchor="end">${points.length > 1 ? esc(last) : ''}</text>
<text class="axis-label" x="${left + plotW / 2}" y="${h - 2}" text-anchor="middle">generation (oldest → newest)</text>
<polyline class="line" points="${coords.join(' ')}"/>
${points.map((p, i) => `<circle class="pt" cx="${x(i).toFixed(1)}" cy="${y(p.value).toFixed(1)}" r="3"><title>${esc(`${p.label}: ${format(p.value)}`)}</title></circle>`).join('\n')}
</svg>
<figcaption>${esc(title)}</figcaption>
</figure>`;
}

function guestCharts(r: StatusPageRow): string {
  const oldestFirst = [...r.history].reverse();
  if (oldestFirst.length === 0) return '';
  const sizes = oldestFirst.map((c) => ({ label: c.generation, value: c.size }));
  const durations = oldestFirst
    .filter((c) => c.durationSeconds !== undefined)
    .map((c) => ({ label: c.generation, value: c.durationSeconds ?? 0 }));
  const who = `${r.vmid}${r.name ? ` ${r.name}` : ''}`;
  return `<section class="guest" data-key="${esc(`${r.cluster}/${r.node}/${r.vmid} ${r.name}`.toLowerCase())}">
<h3>${esc(`${r.cluster}/${r.node} ${who}`)}</h3>
<div class="charts">
${chart('size', `${who}: archive size (bytes)`, sizes, formatBytes)}
${durations.length > 0 ? chart('duration', `${who}: backup duration (seconds)`, durations, (v) => `${Math.round(v)} s`) : ''}
</div>
</section>`;
}

function tableRow(r: StatusPageRow): string {
  const n = r.newest;
  const cells = [
    `<td data-sort="${VERDICT_RANK[r.verdict]}"><span class="verdict v-${r.verdict}">${r.verdict}</span>${r.reason ? `<div class="why">${esc(r.reason)}</div>` : ''}</td>`,
    `<td data-sort="${r.vmid}" class="num">${r.vmid}</td>`,
    `<td>${esc(r.name)}</td>`,
    `<td data-sort="${n ? n.ageSeconds : -1}" class="num">${n ? `<span title="${esc(`${n.generation}, ${n.time}`)}">${humanAge(n.ageSeconds)}</span>` : '—'}</td>`,
    `<td>${esc(r.node)}</td>`,
    `<td>${esc(r.cluster)}</td>`,
    `<td>${esc(r.type)}</td>`,
    `<td>${esc(r.state)}</td>`,
    `<td data-sort="${n ? n.size : -1}" class="num">${n ? formatBytes(n.size) : '—'}</td>`,
    `<td>${n ? (n.hasSha256 ? 'yes' : 'no') : '—'}</td>`,
    `<td data-sort="${r.copies}" class="num">${r.copies}</td>`,
  ];
  const key = `${r.cluster} ${r.node} ${r.vmid} ${r.name} ${r.type} ${r.state} ${r.verdict}`;
  return `<tr data-verdict="${r.verdict}" data-key="${esc(key.toLowerCase())}">${cells.join('')}</tr>`;
}

// What identifies a guest and how old its copy is come first: on a phone the rest scrolls.
const COLUMNS = [
  'Verdict',
  'VMID',
  'Name',
  'Age',
  'Node',
  'Cluster',
  'Type',
  'State',
  'Size',
  'SHA-256',
  'Copies',
];

const CSS = `
:root{--bg:#fff;--fg:#1b1f24;--muted:#59636e;--line:#d1d9e0;--head:#f6f8fa;
--ok:#1a7f37;--stale:#9a6700;--missing:#cf222e;--gone:#8250df;--unselected:#59636e;--plot:#0969da}
@media (prefers-color-scheme: dark){:root{--bg:#0d1117;--fg:#e6edf3;--muted:#9198a1;--line:#3d444d;
--head:#151b23;--ok:#3fb950;--stale:#d29922;--missing:#f85149;--gone:#ab7df8;--unselected:#9198a1;--plot:#4493f8}}
*{box-sizing:border-box}
body{margin:0;padding:12px;font:14px/1.4 system-ui,sans-serif;background:var(--bg);color:var(--fg)}
h1{font-size:1.3em;margin:0 0 4px}h2{font-size:1.1em;margin:20px 0 8px}h3{font-size:1em;margin:12px 0 4px}
.meta,.why,figcaption{color:var(--muted);font-size:.9em}
.counts span{margin-right:12px;white-space:nowrap}
input[type=search]{width:100%;max-width:360px;padding:6px 8px;margin:8px 0;font:inherit;
color:var(--fg);background:var(--bg);border:1px solid var(--line);border-radius:4px}
.scroll{overflow-x:auto;max-width:100%}
table{border-collapse:collapse;min-width:100%}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;white-space:nowrap}
th{background:var(--head);position:sticky;top:0}
th button{all:unset;cursor:pointer;font-weight:600}th button:focus-visible{outline:2px solid var(--plot)}
td.num{text-align:right;font-variant-numeric:tabular-nums}
.verdict{font-weight:600;padding:1px 6px;border-radius:10px;border:1px solid currentColor}
.v-ok{color:var(--ok)}.v-stale{color:var(--stale)}.v-missing{color:var(--missing)}
.v-gone{color:var(--gone)}.v-unselected{color:var(--unselected)}
.charts{display:flex;flex-wrap:wrap;gap:8px}
figure.chart{margin:0;flex:1 1 300px;max-width:420px}
figure.chart svg{width:100%;height:auto;display:block}
svg .axis{stroke:var(--muted);stroke-width:1}svg .line{fill:none;stroke:var(--plot);stroke-width:2}
svg .pt{fill:var(--plot)}svg text{fill:var(--muted);font-size:10px}
[hidden]{display:none!important}
`;

/** Sorting by a header button (numbers by data-sort), and the filter over rows and charts. */
const JS = `
(() => {
  const table = document.getElementById('coverage');
  const body = table.tBodies[0];
  table.querySelectorAll('th button').forEach((btn, col) => {
    btn.addEventListener('click', () => {
      const th = btn.parentElement;
      const asc = th.getAttribute('aria-sort') !== 'ascending';
      table.querySelectorAll('th').forEach((h) => h.removeAttribute('aria-sort'));
      th.setAttribute('aria-sort', asc ? 'ascending' : 'descending');
      const key = (tr) => {
        const td = tr.cells[col];
        const s = td.getAttribute('data-sort');
        return s !== null ? Number(s) : td.textContent.trim().toLowerCase();
      };
      const rows = Array.from(body.rows);
      rows.sort((a, b) => {
        const x = key(a), y = key(b);
        const c = typeof x === 'number' && typeof y === 'number' ? x - y : String(x).localeCompare(String(y));
        return asc ? c : -c;
      });
      rows.forEach((r) => body.appendChild(r));
    });
  });
  const filter = document.getElementById('filter');
  filter.addEventListener('input', () => {
    const words = filter.value.toLowerCase().split(/\\s+/).filter(Boolean);
    const match = (el) => words.every((w) => el.getAttribute('data-key').includes(w));
    body.querySelectorAll('tr').forEach((tr) => { tr.hidden = !match(tr); });
    document.querySelectorAll('section.guest').forEach((s) => { s.hidden = !match(s); });
  });
})();
`;

/** The whole page. */
export function renderStatusPage(input: StatusPageInput): string {
  const title = input.title ?? 'pve-ftp-backup status';
  const rows = [...input.rows].sort(
    (a, b) =>
      VERDICT_RANK[a.verdict] - VERDICT_RANK[b.verdict] ||
      a.cluster.localeCompare(b.cluster) ||
      a.node.localeCompare(b.node) ||
      a.vmid - b.vmid,
  );
  const counts = (Object.keys(VERDICT_RANK) as Verdict[])
    .map((v) => ({ v, n: rows.filter((r) => r.verdict === v).length }))
    .filter((c) => c.n > 0)
    .map((c) => `<span class="v-${c.v}">${c.n} ${c.v}</span>`)
    .join('');
  const run = input.lastRun;
  const runLine = run
    ? `<p class="meta" id="last-run">Last run ${esc(run.runId)} ended ${esc(run.finishedAt)} with exit code ${run.exitCode}: ${run.summary.saved} saved, ${run.summary.failed} failed, ${run.summary.notStarted} not started, ${formatBytes(run.summary.bytesSaved)}.</p>`
    : '<p class="meta" id="last-run">No run report.</p>';
  const head = COLUMNS.map((c) => `<th scope="col"><button type="button">${c}</button></th>`).join(
    '',
  );
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(title)}</h1>
<p class="meta">Generated ${esc(input.generatedAt.toISOString())}. ${rows.length} guest(s).</p>
${runLine}
<p class="counts">${counts}</p>
<input type="search" id="filter" placeholder="Filter: node, vmid, name, verdict…" aria-label="Filter guests">
<div class="scroll">
<table id="coverage">
<thead><tr>${head}</tr></thead>
<tbody>
${rows.map(tableRow).join('\n')}
</tbody>
</table>
</div>
<h2>Archive size and backup duration per guest</h2>
${rows.map(guestCharts).filter(Boolean).join('\n')}
<script>${JS}</script>
</body>
</html>
`;
}
