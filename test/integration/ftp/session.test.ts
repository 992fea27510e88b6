import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import winston from 'winston';
import Transport from 'winston-transport';
import { NasError } from '../../../src/ftp/errors.js';
import { startFtpServer, type TestFtpServer } from '../../support/ftpServers.js';
import { freshDir, modes, Sessions } from './helpers.js';

/** A winston logger that keeps every record, to check what reaches the log. */
function recordingLogger(): { logger: winston.Logger; lines: string[] } {
  const lines: string[] = [];
  class Keep extends Transport {
    override log(info: unknown, next: () => void) {
      lines.push(JSON.stringify(info));
      next();
    }
  }
  return { logger: winston.createLogger({ level: 'debug', transports: [new Keep()] }), lines };
}

describe.each(modes())('FTP session on $label', ({ kind, tls }) => {
  let server: TestFtpServer;
  const sessions = new Sessions();
  beforeAll(async () => {
    server = await startFtpServer(kind, { tls });
  });
  afterEach(() => sessions.closeAll());
  afterAll(async () => {
    await server?.close();
  });

  it('creates nested dirs, writes and reads UTF-8 text under names with spaces', async () => {
    const fs = await sessions.open(server, tls);
    const dir = `${freshDir()}/a b/Übung ✓`;
    await fs.mkdirp(dir);
    await fs.mkdirp(dir); // idempotent
    const path = `${dir}/manifest – ü.json`;
    await fs.writeText(path, '{"name":"grüße ✓"}\n');
    expect(await fs.readText(path)).toBe('{"name":"grüße ✓"}\n');
    expect(await readFile(join(server.root, path), 'utf8')).toBe('{"name":"grüße ✓"}\n');
    // Replacing keeps no temp file behind.
    await fs.writeText(path, 'second');
    expect(await fs.readText(path)).toBe('second');
    expect(await readdir(join(server.root, dir))).toEqual(['manifest – ü.json']);
  });

  it('lists entries with types and sizes, and undefined for a missing dir', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await mkdir(join(server.root, dir, 'sub dir'), { recursive: true });
    await writeFile(join(server.root, dir, 'vzdump 101.tar.zst'), Buffer.alloc(1234));
    await writeFile(join(server.root, dir, '.lock-like'), 'x');
    const entries = await fs.list(dir);
    expect(entries?.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
      { name: '.lock-like', type: 'file', size: 1 },
      { name: 'sub dir', type: 'dir', size: 0 },
      { name: 'vzdump 101.tar.zst', type: 'file', size: 1234 },
    ]);
    expect(await fs.list(`${dir}/missing`)).toBeUndefined();
    expect(await fs.list(`${dir}/sub dir`)).toEqual([]);
  });

  it('lists a dir by name without CWD, telling an empty dir from a missing one', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await mkdir(join(server.root, dir, 'empty'), { recursive: true });
    await writeFile(join(server.root, dir, '.rotation.json'), '{}');
    expect(await fs.list(dir)).toEqual(
      expect.arrayContaining([
        { name: '.rotation.json', type: 'file', size: 2 },
        { name: 'empty', type: 'dir', size: 0 },
      ]),
    );
    expect(await fs.list(`${dir}/empty`)).toEqual([]);
    expect(await fs.list(`${dir}/nothing`)).toBeUndefined();
    expect(await fs.list(`${dir}/.rotation.json/x`)).toBeUndefined();
  });

  it('refuses a text file past 4 MiB, naming it, and the session goes on', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await mkdir(join(server.root, dir), { recursive: true });
    await writeFile(join(server.root, dir, 'manifest.json'), Buffer.alloc(5 * 1024 * 1024, 0x20));
    await expect(fs.readText(`${dir}/manifest.json`)).rejects.toThrow(
      /manifest\.json.*more than 4194304/,
    );
    await writeFile(join(server.root, dir, 'small.json'), '{"ok":1}');
    expect(await fs.readText(`${dir}/small.json`)).toBe('{"ok":1}');
    expect(await fs.readText(`${dir}/missing.json`)).toBeUndefined();
  });

  it('reports sizes, and undefined for missing files', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await mkdir(join(server.root, dir));
    await writeFile(join(server.root, dir, 'f.bin'), Buffer.alloc(4097));
    expect(await fs.size(`${dir}/f.bin`)).toBe(4097);
    expect(await fs.size(`${dir}/nope.bin`)).toBeUndefined();
    expect(await fs.readText(`${dir}/nope.json`)).toBeUndefined();
  });

  it('tells a directory, a file and nothing apart, in two commands at most', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await mkdir(join(server.root, dir, 'sub dir', 'empty'), { recursive: true });
    await writeFile(join(server.root, dir, 'sub dir', 'f.json'), '{}');
    expect(await fs.exists(`${dir}/sub dir`)).toBe('dir');
    expect(await fs.exists(`${dir}/sub dir/empty`)).toBe('dir');
    expect(await fs.exists(`${dir}/sub dir/f.json`)).toBe('file');
    expect(await fs.exists(`${dir}/sub dir/nope`)).toBeUndefined();
    expect(await fs.exists(`${dir}/nope/deeper`)).toBeUndefined();
  });

  it('renames files and directories; refuses a rename onto a non-empty dir', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await mkdir(join(server.root, dir, 'transfer'), { recursive: true });
    await mkdir(join(server.root, dir, 'daily.0'), { recursive: true });
    await writeFile(join(server.root, dir, 'transfer', 'a.tar'), 'A');
    await writeFile(join(server.root, dir, 'daily.0', 'old.tar'), 'O');
    const error = await fs.rename(`${dir}/transfer`, `${dir}/daily.0`).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(NasError);
    expect((error as NasError).failure).toBe('refused');
    expect(await readdir(join(server.root, dir, 'transfer'))).toEqual(['a.tar']);
    await fs.rename(`${dir}/daily.0`, `${dir}/daily.1`);
    await fs.rename(`${dir}/transfer`, `${dir}/daily.0`);
    await fs.rename(`${dir}/daily.0/a.tar`, `${dir}/daily.0/b c.tar`);
    expect(await readdir(join(server.root, dir))).toEqual(['daily.0', 'daily.1']);
    expect(await readFile(join(server.root, dir, 'daily.0', 'b c.tar'), 'utf8')).toBe('A');
  });

  it('removes files and trees; missing ones are a no-op', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await mkdir(join(server.root, dir, 'gen', 'deep'), { recursive: true });
    await writeFile(join(server.root, dir, 'gen', 'deep', 'x'), 'x');
    await writeFile(join(server.root, dir, 'gen', 'y y'), 'y');
    await writeFile(join(server.root, dir, 'gen', '.hidden'), 'h');
    await mkdir(join(server.root, dir, 'gen', 'empty'));
    await mkdir(join(server.root, dir, 'sp ace', 'in'), { recursive: true });
    await writeFile(join(server.root, dir, 'sp ace', 'in', 'z'), 'z');
    await writeFile(join(server.root, dir, 'keep'), 'k');
    await fs.removeDir(`${dir}/gen`);
    await fs.removeDir(`${dir}/gen`);
    await fs.removeDir(`${dir}/sp ace`);
    await fs.removeFile(`${dir}/keep`);
    await fs.removeFile(`${dir}/keep`);
    expect(await readdir(join(server.root, dir))).toEqual([]);
  });

  it('creates a directory exclusively: true once, then false', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await fs.mkdirp(dir);
    expect(await fs.mkdirExclusive(`${dir}/.lock`)).toBe(true);
    expect(await fs.mkdirExclusive(`${dir}/.lock`)).toBe(false);
    expect((await stat(join(server.root, dir, '.lock'))).isDirectory()).toBe(true);
    await expect(fs.mkdirExclusive(`${dir}/no/parent`)).rejects.toBeInstanceOf(NasError);
  });

  it('serializes concurrent calls on one session', async () => {
    const fs = await sessions.open(server, tls);
    const dir = freshDir();
    await fs.mkdirp(dir);
    const names = Array.from({ length: 8 }, (_, i) => `f${i}.txt`);
    await Promise.all(names.map((n) => fs.writeText(`${dir}/${n}`, n)));
    const sizes = await Promise.all(names.map((n) => fs.size(`${dir}/${n}`)));
    expect(sizes).toEqual(names.map((n) => n.length));
    const read = await Promise.all(names.map((n) => fs.readText(`${dir}/${n}`)));
    expect(read).toEqual(names);
  });

  it('reconnects once after the server drops the control connection', async () => {
    const { logger, lines } = recordingLogger();
    const fs = await sessions.open(server, tls, { logger });
    const dir = freshDir();
    await fs.mkdirp(dir);
    expect(await server.dropClients()).toBeGreaterThan(0);
    await fs.writeText(`${dir}/after-drop.txt`, 'ok');
    expect(await readFile(join(server.root, dir, 'after-drop.txt'), 'utf8')).toBe('ok');
    expect(lines.some((l) => l.includes('reconnecting once'))).toBe(true);
    expect(lines.join('\n')).not.toContain(server.password);
  });

  it('refuses relative paths and control characters before sending anything', async () => {
    const fs = await sessions.open(server, tls);
    await expect(fs.list('relative/dir')).rejects.toMatchObject({ failure: 'invalid' });
    await expect(fs.writeText('/x\r\nDELE /y', 'x')).rejects.toMatchObject({ failure: 'invalid' });
    await expect(fs.removeDir('/')).rejects.toMatchObject({ failure: 'invalid' });
  });
});
