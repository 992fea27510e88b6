/**
 * Finding, reading and validating the configuration file: search path, YAML,
 * `${VAR}`, schema, cross-field rules, then secret files and CA files. Every
 * failure is one ConfigError (exit 2) naming the file, the key path and what
 * was expected — never a secret's value.
 */

import { readFile, stat } from 'node:fs/promises';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { LineCounter, parseDocument } from 'yaml';
import { ConfigError } from '../errors.js';
import { parseDurationMs, parseDurationSeconds } from './duration.js';
import { substituteEnv } from './env.js';
import { type ConfigIssue, formatPath, fromZodIssues } from './issues.js';
import { checkClusterUrl, checkRules } from './rules.js';
import { type ConfigFile, configFile } from './schema.js';
import { type ClusterAuth, type Config, DEFAULT_LOCK_LEASE_MS } from './types.js';

/** A config file larger than this is not a config file. */
const MAX_CONFIG_BYTES = 1024 * 1024;
const MAX_SECRET_FILE_BYTES = 64 * 1024;

export interface LoadedConfig {
  config: Config;
  /** Absolute path of the file that was read. */
  path: string;
  /** Things the admin should know at every run (e.g. TLS verification disabled). */
  warnings: string[];
}

/**
 * Where the config is looked for when neither `-c` nor PVE_FTP_BACKUP_CONFIG
 * names one, in order (docs/contract.md#commands).
 */
export function configSearchPath(env: NodeJS.ProcessEnv, cwd: string): string[] {
  const xdg = env.XDG_CONFIG_HOME || join(env.HOME || homedir(), '.config');
  return [
    resolve(cwd, 'pve-ftp-backup.yaml'),
    join(resolve(cwd, xdg), 'pve-ftp-backup', 'config.yaml'),
    '/etc/pve-ftp-backup/config.yaml',
  ];
}

async function isFile(path: string): Promise<boolean> {
  try {
    return (await stat(path)).isFile();
  } catch {
    return false;
  }
}

async function locate(o: { path?: string; env: NodeJS.ProcessEnv; cwd: string }): Promise<string> {
  const named = o.path ?? (o.env.PVE_FTP_BACKUP_CONFIG || undefined);
  if (named !== undefined) {
    const path = resolve(o.cwd, named);
    if (!(await isFile(path))) {
      const source = o.path !== undefined ? '-c' : 'PVE_FTP_BACKUP_CONFIG';
      throw new ConfigError(`config file ${path} (from ${source}) not found or not a file`);
    }
    return path;
  }
  const places = configSearchPath(o.env, o.cwd);
  for (const place of places) if (await isFile(place)) return place;
  throw new ConfigError(
    `no configuration file found; looked at:\n${places.map((p) => `  ${p}`).join('\n')}\n(use -c FILE or PVE_FTP_BACKUP_CONFIG)`,
  );
}

/** Formats problems as one ConfigError: `file: key.path: message (line N)`. */
function configError(
  file: string,
  issues: ConfigIssue[],
  lineOf: (path: readonly PropertyKey[]) => number | undefined,
): ConfigError {
  const lines = issues.map((i) => {
    const line = lineOf(i.path);
    return `${formatPath(i.path)}: ${i.message}${line !== undefined ? ` (line ${line})` : ''}`;
  });
  if (lines.length === 1) return new ConfigError(`${file}: ${lines[0]}`);
  return new ConfigError(
    `${file}: invalid configuration:\n${lines.map((l) => `  ${l}`).join('\n')}`,
  );
}

/** Reads a file named by a config key; errors name the key and the file, never the content. */
async function readNamedFile(
  base: string,
  name: string,
  path: PropertyKey[],
  kind: 'secret' | 'ca',
  problems: ConfigIssue[],
  warnings: string[],
): Promise<string | undefined> {
  const file = resolve(base, name);
  const limit = kind === 'secret' ? MAX_SECRET_FILE_BYTES : MAX_CONFIG_BYTES;
  try {
    const st = await stat(file);
    if (!st.isFile()) throw new Error('not a file');
    if (st.size > limit) {
      problems.push({ path, message: `${file} is too large (over ${limit} bytes)` });
      return undefined;
    }
    // A secret others can read is no secret; warn rather than refuse (it is the admin's box).
    if (kind === 'secret' && process.platform !== 'win32' && (st.mode & 0o077) !== 0) {
      warnings.push(`${formatPath(path)}: ${file} is readable by group or others (chmod 600 it)`);
    }
    const text = await readFile(file, 'utf8');
    if (kind === 'ca') {
      if (!text.includes('-----BEGIN CERTIFICATE-----')) {
        problems.push({ path, message: `${file} does not hold a PEM certificate` });
        return undefined;
      }
      return text;
    }
    const secret = text.replace(/[\r\n]+$/, '');
    if (secret === '') {
      problems.push({ path, message: `${file} is empty` });
      return undefined;
    }
    if (/[\r\n\0]/.test(secret)) {
      problems.push({ path, message: `${file} must hold one line (it contains CR, LF or NUL)` });
      return undefined;
    }
    return secret;
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    problems.push({ path, message: `cannot read ${file}${code ? ` (${code})` : ''}` });
    return undefined;
  }
}

/** After schema and rules passed: read secret and CA files, build the normalised Config. */
async function resolveFiles(
  file: ConfigFile,
  base: string,
  warnings: string[],
): Promise<{ config?: Config; problems: ConfigIssue[] }> {
  const problems: ConfigIssue[] = [];
  const read = (name: string, path: PropertyKey[], kind: 'secret' | 'ca') =>
    readNamedFile(base, name, path, kind, problems, warnings);

  const clusters: Config['clusters'] = [];
  for (const [i, c] of file.clusters.entries()) {
    const at = ['clusters', i, 'auth'];
    let auth: ClusterAuth;
    if (c.auth.token !== undefined) {
      const secret =
        c.auth.secret ?? (await read(c.auth.secretFile ?? '', [...at, 'secretFile'], 'secret'));
      auth = { kind: 'token', tokenId: c.auth.token, secret: secret ?? '' };
    } else {
      const password =
        c.auth.password ??
        (await read(c.auth.passwordFile ?? '', [...at, 'passwordFile'], 'secret'));
      auth = { kind: 'ticket', username: c.auth.user ?? '', password: password ?? '' };
    }
    const caPem =
      c.tls.ca !== undefined ? await read(c.tls.ca, ['clusters', i, 'tls', 'ca'], 'ca') : undefined;
    const url = checkClusterUrl(c.url);
    clusters.push({
      name: c.name,
      url: 'origin' in url ? url.origin : c.url,
      auth,
      tls: {
        ...(c.tls.fingerprint !== undefined
          ? { fingerprint: c.tls.fingerprint.toUpperCase() }
          : {}),
        ...(caPem !== undefined ? { caPem } : {}),
        insecure: c.tls.insecure,
      },
      ...(c.nodes !== undefined ? { nodes: [...new Set(c.nodes)] } : {}),
    });
  }

  const f = file.ftp;
  const password =
    f.password ?? (await read(f.passwordFile ?? '', ['ftp', 'passwordFile'], 'secret'));
  const ftpCa = f.ca !== undefined ? await read(f.ca, ['ftp', 'ca'], 'ca') : undefined;
  if (problems.length > 0) return { problems };

  // `/a/b/` and `/a/b` are the same directory; keep `/` itself.
  const dir = f.dir.length > 1 ? f.dir.replace(/\/+$/, '') || '/' : f.dir;
  const config: Config = {
    clusters,
    ftp: {
      host: f.host,
      port: f.port,
      user: f.user,
      password: password ?? '',
      secure: f.secure,
      dir,
      ...(ftpCa !== undefined ? { caPem: ftpCa } : {}),
      insecure: f.insecure,
      ...(f.limitRate !== undefined ? { limitRate: f.limitRate } : {}),
    },
    backup: {
      ...file.backup,
      types: [...new Set(file.backup.types)],
      exclude: [...new Set(file.backup.exclude)].sort((a, b) => a - b),
      compress: file.backup.compress === 0 ? '0' : file.backup.compress,
    },
    retention: { ...file.retention },
    notify: file.notify,
    metrics: file.metrics,
    // The schema has refused every text parseDurationSeconds does not accept.
    status: { maxAgeSeconds: parseDurationSeconds(file.status.maxAge) ?? 0 },
    lockLeaseMs: parseDurationMs(file.lockLease) ?? DEFAULT_LOCK_LEASE_MS,
  };
  return { config, problems };
}

/**
 * Finds (`path` = `-c`, then PVE_FTP_BACKUP_CONFIG, then the search path),
 * reads and validates the configuration.
 * @throws ConfigError naming the file and the key path of every problem found.
 */
export async function loadConfig(o: {
  path?: string;
  env: NodeJS.ProcessEnv;
  cwd: string;
}): Promise<LoadedConfig> {
  const path = await locate(o);
  const st = await stat(path);
  if (st.size > MAX_CONFIG_BYTES) throw new ConfigError(`${path}: too large for a config file`);
  const text = await readFile(path, 'utf8');
  return parseConfigText(text, path, o.env);
}

/** The part of loadConfig after the file was read (`path` names it in errors, bases relative files). */
export async function parseConfigText(
  text: string,
  path: string,
  env: NodeJS.ProcessEnv,
): Promise<LoadedConfig> {
  const lineCounter = new LineCounter();
  // prettyErrors off: the pretty form quotes the source line, which may hold a secret.
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const syntax = doc.errors[0];
  if (syntax) {
    const pos = syntax.linePos?.[0] ?? lineCounter.linePos(syntax.pos[0]);
    const where = pos ? `line ${pos.line}, column ${pos.col}` : 'somewhere';
    throw new ConfigError(`${path}: YAML syntax error at ${where} (${syntax.code})`);
  }
  const lineOf = (p: readonly PropertyKey[]): number | undefined => {
    for (let n = p.length; n >= 0; n--) {
      const node = doc.getIn(p.slice(0, n) as unknown[], true) as {
        range?: [number, number, number];
      };
      if (node && typeof node === 'object' && node.range)
        return lineCounter.linePos(node.range[0]).line;
    }
    return undefined;
  };
  const raw: unknown = doc.toJS({ maxAliasCount: 100 });
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    throw new ConfigError(`${path}: expected a mapping with clusters, ftp, backup (and retention)`);
  }

  const substituted = substituteEnv(raw, env);
  if (substituted.issues.length > 0) throw configError(path, substituted.issues, lineOf);

  const parsed = configFile.safeParse(substituted.value);
  if (!parsed.success) {
    throw configError(
      path,
      fromZodIssues(parsed.error.issues, substituted.value, configFile),
      lineOf,
    );
  }
  const rules = checkRules(parsed.data);
  if (rules.issues.length > 0) throw configError(path, rules.issues, lineOf);

  const warnings = [...rules.warnings];
  const resolved = await resolveFiles(parsed.data, dirname(path), warnings);
  if (!resolved.config) throw configError(path, resolved.problems, lineOf);
  return { config: resolved.config, path, warnings };
}

/** Every secret in a config: feed them to the log redaction before anything logs. */
export function configSecrets(config: Config): string[] {
  const out = [config.ftp.password];
  for (const c of config.clusters)
    out.push(c.auth.kind === 'token' ? c.auth.secret : c.auth.password);
  out.push(...notifySecrets(config.notify));
  return out.filter((s) => s !== '');
}

/**
 * Notification URLs and tokens are secrets (DESIGN.md "Configuration"): a
 * healthchecks path or an ntfy topic *is* the credential. The path is
 * registered on its own too, so a URL rebuilt from its parts (`…/start`,
 * another scheme or port) is hidden as well.
 */
function notifySecrets(n: Config['notify']): string[] {
  const out: string[] = [];
  if (n === undefined) return out;
  const url = (text: string | undefined) => {
    if (text === undefined) return;
    out.push(text);
    const parsed = URL.parse(text);
    if (parsed === null) return;
    if (parsed.pathname.length > 1) out.push(parsed.pathname.replace(/\/+$/, ''));
    if (parsed.search.length > 1) out.push(parsed.search.slice(1));
    if (parsed.password !== '') out.push(parsed.password);
  };
  url(n.healthchecks);
  url(n.ntfy?.url);
  url(n.webhook?.url);
  if (n.ntfy?.token !== undefined) out.push(n.ntfy.token);
  if (n.webhook?.bearer !== undefined) out.push(n.webhook.bearer);
  return out;
}
