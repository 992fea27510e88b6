/**
 * Upload throughput of the node hook (one curl run: .part, size check,
 * rename, NAME.sha256 hashed beside the upload, the log) beside a plain
 * `curl -T` and `lftp put`, with a 1 GiB file on loopback; and the time
 * `sha256sum` alone takes to read the file again, i.e. what hashing before
 * (not beside) the upload would add to the task.
 *
 *   npx vitest run --config bench/hook-upload.config.ts
 *
 * Env: BENCH_KINDS (default `pure-ftpd,vsftpd`; the real servers come from
 * .ci/install-ftp-servers.sh), BENCH_MIB (default 1024), BENCH_RUNS (3),
 * BENCH_LIMIT (the hook's ftp.limitRate, e.g. `110M`: a 1 GbE link's pace, where
 * the upload and not the hash sets the speed; loopback outruns sha256).
 * Prints MB/s (10^6 B/s) per run and the median. No password reaches any
 * process argument list: curl and lftp read netrc files.
 */
import { spawn } from 'node:child_process';
import { createWriteStream } from 'node:fs';
import { chmod, mkdir, mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { hookScriptPath, renderHookConfig } from '../src/hook/index.js';
import {
  type FtpServerKind,
  startFtpServer,
  type TestFtpServer,
} from '../test/support/ftpServers.js';

const kinds = (process.env.BENCH_KINDS ?? 'pure-ftpd,vsftpd').split(',') as FtpServerKind[];
const mib = Number(process.env.BENCH_MIB ?? 1024);
const runs = Number(process.env.BENCH_RUNS ?? 3);
const bytes = mib * 1024 * 1024;
const archiveName = 'vzdump-lxc-999-2026_11_30-02_00_05.tar.zst';

function run(cmd: string, args: string[], env: Record<string, string>): Promise<number> {
  return new Promise((resolve, reject) => {
    const started = performance.now();
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'inherit', 'inherit'] });
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) reject(new Error(`${cmd} exited ${code}`));
      else resolve((performance.now() - started) / 1000);
    });
  });
}

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

let work: string;
let dumpDir: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'pfb-bench-hook-'));
  dumpDir = join(work, 'dump');
  await mkdir(dumpDir);
  // Incompressible and in the page cache, like a fresh zstd archive.
  const out = createWriteStream(join(dumpDir, archiveName));
  await pipeline(async function* () {
    const chunk = Buffer.alloc(1024 * 1024);
    for (let i = 0; i < mib; i++) {
      for (let j = 0; j < chunk.length; j += 4)
        chunk.writeUInt32LE((i * 2654435761 + j * 40503) >>> 0, j);
      yield chunk;
    }
  }, out);
  await writeFile(join(dumpDir, 'vzdump-lxc-999-2026_11_30-02_00_05.log'), 'INFO: bench\n');
}, 600_000);

afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe.each(kinds)('upload of %s', (kind) => {
  let server: TestFtpServer;
  const results: Record<string, number[]> = {
    hook: [],
    'curl -T': [],
    'hook, no .sha256': [],
    'openssl sha256 alone': [],
    'sha256sum alone': [],
    'lftp put': [],
  };

  beforeAll(async () => {
    server = await startFtpServer(kind);
  });
  afterAll(async () => {
    await server.close();
    const line = Object.entries(results)
      .map(([what, s]) => {
        const rates = s.map((sec) => bytes / sec / 1e6);
        return `${what}: ${median(rates).toFixed(0)} MB/s (${rates.map((r) => r.toFixed(0)).join('/')})`;
      })
      .join('; ');
    console.log(`[bench] ${kind}, ${mib} MiB, median of ${runs}: ${line}`);
  });

  it('measures', async () => {
    const home = join(work, `home-${kind}`);
    await mkdir(home, { recursive: true });
    const netrc = `machine ${server.host}\nlogin ${server.user}\npassword ${server.password}\n`;
    await writeFile(join(home, '.netrc'), netrc, { mode: 0o600 });
    const confPath = join(work, `hook-${kind}.conf`);
    await writeFile(
      confPath,
      renderHookConfig({
        node: 'pve1',
        storage: 'ftp-staging',
        uploadAt: 'log-end',
        ftp: {
          ...server,
          secure: false,
          dir: '/bench',
          ...(process.env.BENCH_LIMIT ? { limitRate: process.env.BENCH_LIMIT } : {}),
        },
      }),
      { mode: 0o600 },
    );
    const file = join(dumpDir, archiveName);
    // The hook minus its NAME.sha256 (bench only): the task time the hash adds.
    const noSha = join(work, 'hook-no-sha256');
    const script = await readFile(hookScriptPath(), 'utf8');
    const queued = '  add_file "$TMP/sha.fifo"';
    expect(script).toContain(queued);
    await writeFile(noSha, script.replace(queued, '  return 0; add_file "$TMP/sha.fifo"'));
    await chmod(noSha, 0o755);
    const hookRun = async (path: string) => {
      const seconds = await run(path, ['log-end', 'snapshot', '999'], {
        STOREID: 'ftp-staging',
        TARGET: file,
        LOGFILE: join(dumpDir, 'vzdump-lxc-999-2026_11_30-02_00_05.log'),
        PVE_FTP_BACKUP_HOOK_CONF: confPath,
      });
      const uploaded = join(server.root, 'bench', 'pve1', 'transfer', archiveName);
      expect((await stat(uploaded)).size).toBe(bytes);
      await rm(join(server.root, 'bench'), { recursive: true, force: true });
      return seconds;
    };
    const url = `ftp://${server.host}:${server.port}`;
    const tools: Record<string, () => Promise<number>> = {
      hook: () => hookRun(hookScriptPath()),
      'hook, no .sha256': () => hookRun(noSha),
      'curl -T': async () => {
        const seconds = await run(
          'curl',
          [
            '-q',
            '-sS',
            '--netrc-file',
            join(home, '.netrc'),
            '--ftp-create-dirs',
            '-T',
            file,
            `${url}/plain/x.bin`,
          ],
          { PATH: '/usr/bin:/bin' },
        );
        expect((await stat(join(server.root, 'plain', 'x.bin'))).size).toBe(bytes);
        await rm(join(server.root, 'plain'), { recursive: true, force: true });
        return seconds;
      },
      // Reported as a rate too: 1 GiB / its seconds.
      'sha256sum alone': () => run('sha256sum', [file], { PATH: '/usr/bin:/bin' }),
      'openssl sha256 alone': () =>
        run('openssl', ['dgst', '-sha256', file], { PATH: '/usr/bin:/bin' }),
      // lftp reads $HOME/.netrc; the URL's user picks the entry.
      'lftp put': async () => {
        const seconds = await run(
          'lftp',
          [
            '-c',
            `set cmd:fail-exit yes; set net:max-retries 2; set ftp:ssl-allow no; open ftp://${server.user}@${server.host}:${server.port}; put ${file} -o /lftp.bin`,
          ],
          { PATH: '/usr/bin:/bin', HOME: home },
        );
        expect((await stat(join(server.root, 'lftp.bin'))).size).toBe(bytes);
        await rm(join(server.root, 'lftp.bin'), { force: true });
        return seconds;
      },
    };
    const names = Object.keys(tools);
    for (let i = 0; i < runs; i++) {
      // Rotate the order and flush dirty pages first, so that no tool always
      // pays for the write-back of the one before it.
      for (let k = 0; k < names.length; k++) {
        const name = names[(i + k) % names.length]!;
        await run('sync', [], { PATH: '/usr/bin:/bin' });
        results[name]!.push(await tools[name]!());
      }
    }
  }, 1_800_000);
});
