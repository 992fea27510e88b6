/**
 * `verify` through the BUILT CLI: after real runs (the simulator writes real
 * archives, the real hook uploads them with their NAME.sha256), shallow and
 * deep checks pass; then corruption on the NAS — a flipped byte in the
 * middle, a truncated archive, one padded back to its size, a wrong
 * .sha256, a missing file, a manifest that is not JSON — each is reported
 * with the file and what is wrong, exit 1, and every other file still checked.
 */
import { readdir, readFile, truncate, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { VerifyReport } from '../../src/verify/collect.js';
import { ensureBuilt, jsonReport, runCli } from './support/cli.js';
import { archives, DEMO_FTP_DIR, startWorld, type World } from './support/world.js';

let world: World;
const KiB = 1024;

beforeAll(async () => {
  await ensureBuilt();
  world = await startWorld({
    flavour: '9.1',
    auth: 'token',
    keep: 3,
    backupDurationMs: 100,
    nodes: [
      {
        name: 'pve1',
        guests: [101, 102, 103, 104].map((vmid) => ({
          vmid,
          type: 'lxc' as const,
          name: `ct${vmid}`,
          status: 'running' as const,
          archiveSize: 96 * KiB + vmid,
        })),
      },
    ],
  });
  for (let night = 0; night < 2; night++) {
    const r = await runCli(['run', '-c', world.configPath], { env: world.env, cwd: world.tmp });
    expect(r.code, r.stderr).toBe(0);
  }
}, 180_000);
afterAll(async () => {
  await world?.close();
});

const verify = (...extra: string[]) =>
  runCli(['verify', '-c', world.configPath, '--json', ...extra], {
    env: world.env,
    cwd: world.tmp,
  });
const gen = (name: string) => join(world.ftpRoot, DEMO_FTP_DIR, 'pve1', name);
async function archiveOf(g: string, vmid: number): Promise<string> {
  const name = archives(await readdir(gen(g))).find((n) => n.includes(`-${vmid}-`));
  if (!name) throw new Error(`no archive of ${vmid} in ${g}`);
  return join(gen(g), name);
}

describe('verify', () => {
  it('passes shallow and deep on what the runs saved, with the node sha256 recorded', async () => {
    const manifest = JSON.parse(await readFile(join(gen('daily.0'), 'manifest.json'), 'utf8'));
    expect(manifest.guests[0].files[0].sha256).toMatch(/^[0-9a-f]{64}$/);
    const shallow = await verify();
    expect(shallow.code, shallow.stderr).toBe(0);
    // 4 guests × (archive, .sha256, .log) × 2 generations
    expect(jsonReport<VerifyReport>(shallow).summary).toMatchObject({ files: 24, ok: 24 });
    const deep = await verify('--deep', '--generation', 'daily.0');
    expect(deep.code, deep.stderr).toBe(0);
    const report = jsonReport<VerifyReport>(deep);
    expect(report.summary).toMatchObject({ files: 12, ok: 12 });
    expect(report.summary.bytesRead).toBeGreaterThan(4 * 96 * KiB);
  }, 60_000);

  it('finds each kind of damage, names the file, and still checks the rest', async () => {
    // daily.0: 101 a flipped byte in the middle; 102 truncated; 103 padded back to its size
    // after truncation; 104's .sha256 wrong. daily.1: manifest not JSON.
    const flip = await archiveOf('daily.0', 101);
    const bytes = await readFile(flip);
    const mid = Math.floor(bytes.length / 2);
    bytes[mid] = (bytes[mid] ?? 0) ^ 0xff;
    await writeFile(flip, bytes);
    const short = await archiveOf('daily.0', 102);
    const shortSize = (await readFile(short)).length;
    await truncate(short, shortSize - 1000);
    const padded = await archiveOf('daily.0', 103);
    const p = await readFile(padded);
    // Cut short, then padded with zeros back to the recorded size (a truncated-then-padded upload).
    p.fill(0, Math.floor(p.length * 0.6));
    await writeFile(padded, p);
    const sums = archives(await readdir(gen('daily.0'))).find((n) => n.includes('-104-'));
    await writeFile(join(gen('daily.0'), `${sums}.sha256`), `${'0'.repeat(64)}  ${sums}\n`);
    await writeFile(join(gen('daily.1'), 'manifest.json'), '{ not json');

    const shallow = await verify();
    expect(shallow.code).toBe(1);
    const s = jsonReport<VerifyReport>(shallow);
    const problems = (name: string) =>
      s.files.filter((f) => f.name.startsWith(name) && !f.ok).flatMap((f) => f.problems);
    expect(problems(short.split('/').pop() ?? '-')).toEqual([
      `${shortSize - 1000} bytes on the NAS, the manifest says ${shortSize}`,
    ]);
    expect(problems(`${sums}`)).toEqual([
      expect.stringMatching(/\.sha256 says 0{64}, the manifest says/),
    ]);
    expect(s.files.find((f) => f.generation === 'daily.1')).toMatchObject({
      name: 'manifest.json',
      ok: false,
      problems: [expect.stringMatching(/not valid JSON/)],
    });
    // Shallow cannot see a flipped byte or padding: sizes and checksum files agree.
    expect(problems(flip.split('/').pop() ?? '-')).toEqual([]);

    const deep = await verify('--deep', '--generation', 'daily.0');
    expect(deep.code).toBe(1);
    const d = jsonReport<VerifyReport>(deep);
    const bad = (path: string) =>
      d.files.find((f) => f.name === path.split('/').pop())?.problems.join('; ') ?? '';
    expect(bad(flip)).toMatch(/sha256/);
    expect(bad(padded)).toMatch(/sha256/);
    expect(bad(short)).toMatch(/bytes on the NAS/);
    // The untouched logs are still checked and fine.
    expect(d.files.filter((f) => f.name.endsWith('.log') && f.ok)).toHaveLength(4);
  }, 90_000);

  it('a bad --generation is a usage error', async () => {
    const r = await verify('--generation', 'yesterday');
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--generation yesterday: expected all, daily.N/);
  }, 30_000);
});
