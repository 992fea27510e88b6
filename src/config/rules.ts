/**
 * Cross-field rules the schema alone cannot express, and refusals of what can
 * only be a mistake or an attack. Pure: takes the parsed file, returns
 * problems (errors) and warnings. Messages never quote a secret; they quote a
 * URL only after checking it holds no credentials.
 */
import type { ConfigIssue } from './issues.js';
import type { ConfigFile } from './schema.js';

export interface RuleResult {
  issues: ConfigIssue[];
  warnings: string[];
}

/** Checks a cluster URL; returns `https://host[:port]` or an error message. */
export function checkClusterUrl(url: string): { origin: string } | { error: string } {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { error: 'expected a URL like https://pve1.example.lan:8006' };
  }
  if (parsed.protocol !== 'https:') {
    // The API token or password would travel in clear text: never allowed.
    return { error: `must start with https:// (got ${parsed.protocol}//)` };
  }
  if (parsed.username !== '' || parsed.password !== '') {
    return { error: 'must not contain credentials; use auth instead' };
  }
  if ((parsed.pathname !== '/' && parsed.pathname !== '') || parsed.search || parsed.hash) {
    return { error: 'expected only https://host:port (the tool adds /api2/json itself)' };
  }
  return { origin: parsed.origin };
}

function checkAuth(auth: ConfigFile['clusters'][number]['auth'], at: PropertyKey[]): ConfigIssue[] {
  const issues: ConfigIssue[] = [];
  const has = (k: keyof typeof auth) => auth[k] !== undefined;
  const tokenSide = has('token') || has('secret') || has('secretFile');
  const userSide = has('user') || has('password') || has('passwordFile');
  if (tokenSide && userSide) {
    issues.push({
      path: at,
      message: 'use either token + secret (API token) or user + password (ticket), not both',
    });
    return issues;
  }
  if (!tokenSide && !userSide) {
    issues.push({ path: at, message: 'is required: token + secret, or user + password' });
    return issues;
  }
  const [id, secret, file] = tokenSide
    ? (['token', 'secret', 'secretFile'] as const)
    : (['user', 'password', 'passwordFile'] as const);
  if (!has(id)) issues.push({ path: [...at, id], message: `is required with ${secret}` });
  if (has(secret) && has(file)) {
    issues.push({ path: [...at, file], message: `use either ${secret} or ${file}, not both` });
  } else if (!has(secret) && !has(file)) {
    issues.push({ path: [...at, secret], message: `is required with ${id} (or ${file})` });
  }
  return issues;
}

/** Applies every cross-field rule to a file that passed the schema. */
export function checkRules(file: ConfigFile): RuleResult {
  const issues: ConfigIssue[] = [];
  const warnings: string[] = [];
  const seen = new Map<string, number>();

  file.clusters.forEach((c, i) => {
    const at = ['clusters', i];
    const url = checkClusterUrl(c.url);
    if ('error' in url) issues.push({ path: [...at, 'url'], message: url.error });
    const first = seen.get(c.name);
    if (first !== undefined) {
      issues.push({
        path: [...at, 'name'],
        message: `duplicate cluster name '${c.name}' (also clusters[${first}].name)`,
      });
    } else {
      seen.set(c.name, i);
    }
    issues.push(...checkAuth(c.auth, [...at, 'auth']));
    if (c.tls.insecure && (c.tls.fingerprint !== undefined || c.tls.ca !== undefined)) {
      issues.push({
        path: [...at, 'tls', 'insecure'],
        message: 'cannot be combined with tls.fingerprint or tls.ca (they would be ignored)',
      });
    } else if (c.tls.insecure) {
      warnings.push(
        `clusters[${i}].tls.insecure: the certificate of cluster '${c.name}' is not verified; anyone in the path can read the API credentials`,
      );
    }
    if (c.tls.fingerprint !== undefined && c.tls.ca !== undefined) {
      issues.push({ path: [...at, 'tls', 'ca'], message: 'use either tls.fingerprint or tls.ca' });
    }
  });

  const ftp = file.ftp;
  if (ftp.password !== undefined && ftp.passwordFile !== undefined) {
    issues.push({
      path: ['ftp', 'passwordFile'],
      message: 'use either password or passwordFile, not both',
    });
  } else if (ftp.password === undefined && ftp.passwordFile === undefined) {
    issues.push({ path: ['ftp', 'password'], message: 'is required (or passwordFile)' });
  }
  if (!ftp.dir.startsWith('/')) {
    // The node hook uploads to the same place, from its own login: only an absolute path means the same.
    issues.push({ path: ['ftp', 'dir'], message: 'must be an absolute path (starting with /)' });
  } else if (ftp.dir.split(/[/\\]/).some((seg) => seg === '..' || seg === '.')) {
    issues.push({ path: ['ftp', 'dir'], message: "must not contain '..' (or '.') segments" });
  }
  if (!ftp.secure && (ftp.ca !== undefined || ftp.insecure)) {
    issues.push({
      path: ['ftp', ftp.ca !== undefined ? 'ca' : 'insecure'],
      message: 'only means something with secure: true (FTPS)',
    });
  }
  if (ftp.secure && ftp.insecure) {
    if (ftp.ca !== undefined) {
      issues.push({ path: ['ftp', 'insecure'], message: 'cannot be combined with ftp.ca' });
    } else {
      warnings.push('ftp.insecure: the FTPS certificate of the NAS is not verified');
    }
  }
  if (file.retention.monthly > 0 && file.retention.weekly === 0) {
    // Monthly generations are promoted from weekly ones only: this tier would stay empty.
    issues.push({
      path: ['retention', 'monthly'],
      message: 'needs retention.weekly >= 1: monthly generations are promoted from weekly ones',
    });
  }
  return { issues, warnings };
}
