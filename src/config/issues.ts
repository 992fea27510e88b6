/**
 * Turning validation problems into messages an admin can act on: the key path
 * as `clusters[0].auth.secret`, what was expected, a "did you mean" for
 * misspelt keys and, when known, the line in the file. Messages never quote a
 * value from the file (it might be a secret); they quote only key names.
 */
import type { z } from 'zod';

/** One problem found in the configuration. */
export interface ConfigIssue {
  path: readonly PropertyKey[];
  message: string;
}

/** `['clusters', 0, 'auth']` → `clusters[0].auth`; the empty path is `(top level)`. */
export function formatPath(path: readonly PropertyKey[]): string {
  let out = '';
  for (const part of path) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? String(part) : `.${String(part)}`;
  }
  return out === '' ? '(top level)' : out;
}

/**
 * Edit distance counting a swap of two neighbours as one edit (optimal string
 * alignment), case-insensitive: `tokne` is one typo away from `token`.
 */
export function editDistance(a: string, b: string): number {
  const x = a.toLowerCase();
  const y = b.toLowerCase();
  const d: number[][] = Array.from({ length: x.length + 1 }, (_, i) =>
    Array.from({ length: y.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)),
  );
  for (let i = 1; i <= x.length; i++) {
    for (let j = 1; j <= y.length; j++) {
      const cost = x[i - 1] === y[j - 1] ? 0 : 1;
      let v = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost);
      if (i > 1 && j > 1 && x[i - 1] === y[j - 2] && x[i - 2] === y[j - 1]) {
        v = Math.min(v, d[i - 2]![j - 2]! + 1);
      }
      d[i]![j] = v;
    }
  }
  return d[x.length]![y.length]!;
}

/** The closest known key, if it is close enough to be a plausible typo. */
export function didYouMean(unknown: string, known: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Number.POSITIVE_INFINITY;
  for (const k of known) {
    const d = editDistance(unknown, k);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  // Allow roughly one typo per three characters, at least one (e.g. `kep` → `keep`).
  const limit = Math.max(1, Math.floor(unknown.length / 3));
  return best !== undefined && bestDistance <= limit ? best : undefined;
}

interface ZodInternals {
  _zod: {
    def: {
      type: string;
      shape?: Record<string, unknown>;
      innerType?: unknown;
      element?: unknown;
      in?: unknown;
    };
  };
}

/** The keys the schema allows at `path` (array indexes skipped), for the did-you-mean hint. */
export function knownKeysAt(schema: z.ZodType, path: readonly PropertyKey[]): string[] {
  let node = schema as unknown as ZodInternals;
  const rest = [...path];
  for (let guard = 0; guard < 64; guard++) {
    const def = node._zod.def;
    if (def.type === 'default' || def.type === 'optional' || def.type === 'prefault') {
      node = def.innerType as ZodInternals;
    } else if (def.type === 'pipe') {
      node = def.in as ZodInternals;
    } else if (def.type === 'array') {
      if (typeof rest[0] === 'number') rest.shift();
      node = def.element as ZodInternals;
    } else if (def.type === 'object' && def.shape) {
      if (rest.length === 0) return Object.keys(def.shape);
      const next = def.shape[String(rest.shift())];
      if (!next) return [];
      node = next as ZodInternals;
    } else {
      return [];
    }
  }
  return [];
}

function valueAt(data: unknown, path: readonly PropertyKey[]): unknown {
  let cur = data;
  for (const p of path) {
    if (cur === null || typeof cur !== 'object') return undefined;
    cur = (cur as Record<PropertyKey, unknown>)[p];
  }
  return cur;
}

const typeNames: Record<string, string> = {
  string: 'a string',
  number: 'a number',
  boolean: 'true or false',
  array: 'a list',
  object: 'a mapping of keys',
};

/**
 * Zod issues → ConfigIssues. `data` is the parsed YAML (to tell a missing key
 * from a wrong type); `schema` gives the known keys for did-you-mean.
 */
export function fromZodIssues(
  issues: readonly z.core.$ZodIssue[],
  data: unknown,
  schema: z.ZodType,
): ConfigIssue[] {
  const out: ConfigIssue[] = [];
  for (const issue of issues) {
    switch (issue.code) {
      case 'unrecognized_keys': {
        const known = knownKeysAt(schema, issue.path);
        for (const key of issue.keys) {
          const hint = didYouMean(key, known);
          out.push({
            path: [...issue.path, key],
            message: `unknown key${hint ? ` (did you mean '${hint}'?)` : ''}; allowed here: ${known.join(', ')}`,
          });
        }
        break;
      }
      case 'invalid_type': {
        const missing = valueAt(data, issue.path) === undefined;
        const expected = typeNames[issue.expected] ?? issue.expected;
        // A message we wrote ourselves (e.g. "expected a whole number from 1 to 65535") says more.
        const custom = !issue.message.startsWith('Invalid input');
        out.push({
          path: issue.path,
          message: missing
            ? `is required (${expected})`
            : custom
              ? issue.message
              : `expected ${expected}`,
        });
        break;
      }
      case 'invalid_value':
        out.push({
          path: issue.path,
          message: `expected one of: ${issue.values.map((v) => String(v)).join(', ')}`,
        });
        break;
      default:
        out.push({ path: issue.path, message: issue.message });
    }
  }
  return out;
}
