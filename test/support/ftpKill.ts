/** Helpers for rotation tests over a real FTP session: a session killed after k writes, and the server's tree. */
import { readdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { RemoteFs } from '../../src/ftp/remoteFs.js';
import type { NasSession } from '../../src/ftp/session.js';

/** Every file under a local dir, relative path → content; directories as `<dir>`. */
export async function localTree(dir: string, prefix = ''): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const rel = prefix ? `${prefix}/${e.name}` : e.name;
    if (e.isDirectory()) {
      out[rel] = '<dir>';
      Object.assign(out, await localTree(join(dir, e.name), rel));
    } else {
      out[rel] = await readFile(join(dir, e.name), 'utf8');
    }
  }
  return out;
}

export class Killed extends Error {}

/** The session, killed (every later call throws) once `k` mutating calls went through. */
export function killAfter(fs: NasSession, k: number): RemoteFs {
  let left = k;
  const gate =
    <A extends unknown[], R>(f: (...a: A) => Promise<R>) =>
    async (...a: A): Promise<R> => {
      if (left-- <= 0) throw new Killed('killed');
      return f(...a);
    };
  return {
    list: (d) => fs.list(d),
    size: (p) => fs.size(p),
    exists: (p) => fs.exists(p),
    readText: (p) => fs.readText(p),
    mkdirp: gate((d: string) => fs.mkdirp(d)),
    mkdirExclusive: gate((d: string) => fs.mkdirExclusive(d)),
    rename: gate((a: string, b: string) => fs.rename(a, b)),
    removeDir: gate((d: string) => fs.removeDir(d)),
    removeFile: gate((p: string) => fs.removeFile(p)),
    writeText: gate((p: string, t: string) => fs.writeText(p, t)),
  };
}
