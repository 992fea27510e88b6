/**
 * Prometheus text exposition format (version 0.0.4), the subset the
 * node_exporter textfile collector reads: gauge families with HELP and TYPE
 * lines, label values escaped. Pure.
 */

export interface Sample {
  labels?: Record<string, string>;
  value: number;
}

export interface GaugeFamily {
  name: string;
  help: string;
  samples: Sample[];
}

const METRIC_NAME_RE = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL_NAME_RE = /^[a-zA-Z_][a-zA-Z0-9_]*$/;

/** Label values: backslash, double quote and line feed are the three escapes the format has. */
export function escapeLabelValue(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
}

/** HELP text: backslash and line feed are escaped (a quote is fine there). */
function escapeHelp(text: string): string {
  return text.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');
}

function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(value);
}

/** One family: `# HELP`, `# TYPE … gauge`, then a line per sample. A family without samples is left out. */
export function formatGauge(family: GaugeFamily): string {
  if (!METRIC_NAME_RE.test(family.name)) throw new Error(`bad metric name ${family.name}`);
  if (family.samples.length === 0) return '';
  const lines = [`# HELP ${family.name} ${escapeHelp(family.help)}`, `# TYPE ${family.name} gauge`];
  for (const s of family.samples) {
    const entries = Object.entries(s.labels ?? {});
    for (const [k] of entries) if (!LABEL_NAME_RE.test(k)) throw new Error(`bad label name ${k}`);
    const labels =
      entries.length === 0
        ? ''
        : `{${entries.map(([k, v]) => `${k}="${escapeLabelValue(v)}"`).join(',')}}`;
    lines.push(`${family.name}${labels} ${formatValue(s.value)}`);
  }
  return `${lines.join('\n')}\n`;
}
