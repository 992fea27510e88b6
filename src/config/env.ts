/**
 * `${VAR}` substitution in string values of the parsed YAML. A missing or
 * empty variable is an error naming the variable and the key path (never the
 * value). `$${` writes a literal `${`. Keys are not substituted, and neither
 * are non-string scalars.
 */
import type { ConfigIssue } from './issues.js';

const VAR_RE = /\$\$\{|\$\{([^}]*)\}/g;
const NAME_RE = /^[A-Za-z_][A-Za-z0-9_]*$/;

/**
 * Returns a copy of `data` with every `${VAR}` replaced from `env`, and the
 * problems found (unset, empty or malformed variable references).
 */
export function substituteEnv(
  data: unknown,
  env: NodeJS.ProcessEnv,
): { value: unknown; issues: ConfigIssue[] } {
  const issues: ConfigIssue[] = [];
  const walk = (node: unknown, path: PropertyKey[]): unknown => {
    if (typeof node === 'string') return substituteString(node, env, path, issues);
    if (Array.isArray(node)) return node.map((item, i) => walk(item, [...path, i]));
    if (node !== null && typeof node === 'object') {
      const out: Record<string, unknown> = {};
      for (const [k, v] of Object.entries(node)) out[k] = walk(v, [...path, k]);
      return out;
    }
    return node;
  };
  return { value: walk(data, []), issues };
}

function substituteString(
  s: string,
  env: NodeJS.ProcessEnv,
  path: PropertyKey[],
  issues: ConfigIssue[],
): string {
  if (!s.includes('$')) return s;
  return s.replace(VAR_RE, (match, name: string | undefined) => {
    if (match === '$${') return '${';
    if (name === undefined || !NAME_RE.test(name)) {
      issues.push({
        path,
        message: `malformed \${...} reference (expected \${NAME}; write $\${ for a literal \${)`,
      });
      return '';
    }
    const value = env[name];
    if (value === undefined) {
      issues.push({ path, message: `environment variable ${name} is not set` });
      return '';
    }
    if (value === '') {
      issues.push({ path, message: `environment variable ${name} is empty` });
      return '';
    }
    return value;
  });
}
