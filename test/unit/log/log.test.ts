import { mkdtemp, readFile, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import {
  closeLogger,
  createLogger,
  levelFor,
  loggerStderr,
  progress,
} from '../../../src/log/logger.js';
import { Redactor, redact, redactingStream, redactValue } from '../../../src/log/redact.js';

const SECRET = 'tok-3f9a-SECRET-77';
const PASSWORD = 'p@ss w0rd/+&=';

function sink(columns?: number) {
  const out = new PassThrough() as PassThrough & { columns?: number };
  if (columns) out.columns = columns;
  let text = '';
  out.on('data', (d: Buffer) => {
    text += d.toString();
  });
  return { out, text: () => text };
}

const dirs: string[] = [];
afterEach(async () => {
  await Promise.all(dirs.splice(0).map((d) => rm(d, { recursive: true, force: true })));
});

describe('redact', () => {
  it('removes secrets and their URL/JSON-encoded forms', () => {
    const text = `a ${SECRET} b ${encodeURIComponent(PASSWORD)} c ${JSON.stringify('x"y')}`;
    const r = redact(text, [SECRET, PASSWORD, 'x"y']);
    expect(r).not.toContain(SECRET);
    expect(r).not.toContain(encodeURIComponent(PASSWORD));
    expect(r).not.toContain('x\\"y');
    expect(r).toContain('[redacted]');
  });

  it.each([
    [
      'Authorization: PVEAPIToken=backup@pve!nightly=aaaa-bbbb-cccc',
      'aaaa-bbbb',
      'PVEAPIToken=backup@pve!nightly=[redacted]',
    ],
    [
      'Cookie: PVEAuthCookie=PVE%3Aroot%40pam%3A5F000000%3A%3AsigXYZ; x=1',
      'sigXYZ',
      'PVEAuthCookie=[redacted]',
    ],
    ['CSRFPreventionToken: 5F000000:abcdefSIG', 'abcdefSIG', 'CSRFPreventionToken: [redacted]'],
    ['{"CSRFPreventionToken":"5F000000:abcdefSIG"}', 'abcdefSIG', '[redacted]'],
    [
      'ticket PVE:root@pam:5F000000::c2lnbmF0dXJl',
      'c2lnbmF0dXJl',
      'PVE:root@pam:5F000000::[redacted]',
    ],
    [
      '{"ticket":"whatever-it-is","username":"root@pam"}',
      'whatever-it-is',
      '"username":"root@pam"',
    ],
    ['username=root%40pam&password=hunter2&realm=pam', 'hunter2', '&realm=pam'],
    ['ftp://backup:hunter2@nas/dir', 'hunter2', 'ftp://backup:[redacted]@nas/dir'],
    ['> PASS hunter2', 'hunter2', '> PASS [redacted]'],
  ])('pattern %#: %s', (text, gone, kept) => {
    const r = redact(text, []);
    expect(r).not.toContain(gone);
    expect(r).toContain(kept);
  });

  it('leaves ordinary messages alone (a config error about a password key)', () => {
    const msg = 'ftp.password: is required (or passwordFile)';
    expect(redact(msg, [])).toBe(msg);
  });

  it('redacts deep values, error messages, stacks and causes without mutating them', () => {
    const cause = new Error(`connect failed for ${SECRET}`);
    const err = new Error(`outer ${SECRET}`, { cause });
    (err as Error & { status: number }).status = 401;
    const value = { a: [{ b: SECRET }], err };
    const r = JSON.stringify(redactValue(value, [SECRET]));
    expect(r).not.toContain(SECRET);
    expect(r).toContain('connect failed for [redacted]');
    expect(r).toContain('"status":401');
    expect(err.message).toBe(`outer ${SECRET}`);
    expect(value.a[0]!.b).toBe(SECRET);
  });

  it('survives cycles', () => {
    const a: Record<string, unknown> = { s: SECRET };
    a.self = a;
    expect(JSON.stringify(redactValue(a, [SECRET]))).not.toContain(SECRET);
  });
});

describe('createLogger', () => {
  it('levels from -v/-q', () => {
    expect(levelFor({ verbose: 0, quiet: false })).toBe('info');
    expect(levelFor({ verbose: 1, quiet: false })).toBe('verbose');
    expect(levelFor({ verbose: 2, quiet: false })).toBe('debug');
    expect(levelFor({ verbose: 9, quiet: false })).toBe('silly');
    expect(levelFor({ verbose: 2, quiet: true })).toBe('warn');
  });

  it('stderr: plain tagged lines, secrets gone from message and metadata, level respected', async () => {
    const s = sink();
    const logger = createLogger({
      level: 'info',
      stderr: s.out,
      isTty: false,
      redactor: new Redactor([SECRET]),
    });
    const child = logger.child({ cluster: 'home', node: 'pve1' });
    child.info(`token ${SECRET} used`, {
      header: `PVEAPIToken=a@pve!b=${SECRET}`,
      err: new Error(SECRET),
    });
    child.debug('not shown');
    await closeLogger(logger);
    const text = s.text();
    expect(text).toMatch(/^\d\d:\d\d:\d\d info {4}\[home\/pve1\] token \[redacted\] used/);
    expect(text).not.toContain(SECRET);
    expect(text).not.toContain('not shown');
    expect(text).not.toContain('\x1b[');
  });

  it("a secret added to the run's redactor later (a new ticket) is hidden from then on: logger, its children, the report stream", async () => {
    const s = sink();
    const redactor = new Redactor();
    const logger = createLogger({ level: 'info', stderr: s.out, isTty: false, redactor });
    const child = logger.child({ node: 'pve1' });
    const report = loggerStderr(logger, s.out);
    const ticket = 'PVE-TICKET-LEARNT-LATER-123';
    redactor.add(ticket);
    logger.warn('renewed', { ticket: { value: ticket } });
    child.info(`child saw ${ticket}`);
    report.write(`report names ${ticket}\n`);
    await closeLogger(logger);
    expect(s.text()).toContain('renewed');
    expect(s.text()).toContain('child saw [redacted]');
    expect(s.text()).toContain('report names [redacted]');
    expect(s.text()).not.toContain(ticket);
  });

  it('redactors are per run: a secret of one is not redacted by another (no process-wide store)', () => {
    const a = new Redactor(['SECRET-OF-RUN-A']);
    const b = new Redactor();
    expect(a.redact('x SECRET-OF-RUN-A y')).toBe('x [redacted] y');
    expect(b.redact('x SECRET-OF-RUN-A y')).toBe('x SECRET-OF-RUN-A y');
    a.add('');
    expect(a.redact('nothing secret here')).toBe('nothing secret here');
    expect(JSON.stringify(a)).not.toContain('SECRET-OF-RUN-A');
  });

  it('redactingStream keeps registered secrets out of reports on stdout, JSON staying valid', async () => {
    const s = sink();
    const password = 'FTP-PASSWORD-IN-A-REPORT-9';
    const out = redactingStream(s.out, new Redactor([password]));
    const report = { error: `login as backup with ${password} refused`, guests: [101] };
    await new Promise<void>((done) => out.write(`${JSON.stringify(report)}\n`, () => done()));
    expect(s.text()).not.toContain(password);
    expect(JSON.parse(s.text())).toEqual({
      error: 'login as backup with [redacted] refused',
      guests: [101],
    });
  });

  it('log file: JSON lines at debug, redacted, error causes included, mode 600', async () => {
    const d = await mkdtemp(join(tmpdir(), 'pfb-log-'));
    dirs.push(d);
    const file = join(d, 'run.log');
    const s = sink();
    const logger = createLogger({
      level: 'warn',
      stderr: s.out,
      isTty: false,
      logFile: file,
      redactor: new Redactor([PASSWORD]),
    });
    const err = new Error('upload failed', {
      cause: new Error(`530 login as backup with ${PASSWORD}`),
    });
    logger.child({ node: 'pve1', guest: 101 }).error('guest failed', { error: err });
    for (let i = 0; i < 200; i++) logger.debug(`line ${i}`);
    await closeLogger(logger);
    const lines = (await readFile(file, 'utf8'))
      .trim()
      .split('\n')
      .map((l) => JSON.parse(l));
    expect(lines).toHaveLength(201);
    expect(lines[0]).toMatchObject({
      level: 'error',
      message: 'guest failed',
      node: 'pve1',
      guest: 101,
    });
    expect(lines[0].error.cause.message).toBe('530 login as backup with [redacted]');
    expect(JSON.stringify(lines)).not.toContain(PASSWORD);
    expect((await stat(file)).mode & 0o777).toBe(0o600);
    expect(s.text()).toContain('guest failed');
    expect(s.text()).not.toContain('line 5');
  });

  it('an unwritable log file is a ConfigError naming it', () => {
    expect(() =>
      createLogger({
        level: 'info',
        stderr: sink().out,
        isTty: false,
        logFile: '/nonexistent-dir/x.log',
      }),
    ).toThrow(/--log-file \/nonexistent-dir\/x\.log: cannot open/);
  });

  it('TTY: progress lines live at the bottom, log lines above them, erased at close', async () => {
    const s = sink(60);
    const logger = createLogger({ level: 'info', stderr: s.out, isTty: true, color: false });
    progress(logger, 'pve1', 'CT 101: 10%');
    progress(logger, 'pve2', 'CT 201: 50%');
    logger.info('between');
    progress(logger, 'pve1', 'CT 101: 90%');
    loggerStderr(logger, s.out).write('REPORT\n');
    await closeLogger(logger);
    const t = s.text();
    // The board is redrawn after each line: move up 2 lines, clear, write, redraw.
    expect(t).toContain('\x1b[2F\x1b[0J');
    expect(t.lastIndexOf('between')).toBeLessThan(t.lastIndexOf('pve1: CT 101: 90%'));
    expect(t).toContain('REPORT\npve1: CT 101: 90%\npve2: CT 201: 50%\n');
    expect(t.endsWith('\x1b[2F\x1b[0J')).toBe(true);
  });

  it('an entry more verbose than every output is dropped before winston reads it; the rest still arrive', async () => {
    let reads = 0;
    // winston copies an entry's metadata (and the redaction walks it) before any transport
    // drops it by level: a getter shows whether that happened.
    const meta = {
      get detail() {
        reads++;
        return 'looked at';
      },
    };
    const s = sink();
    const logger = createLogger({ level: 'verbose', stderr: s.out, isTty: false });
    logger.debug('per-request detail', meta);
    logger.child({ node: 'pve1' }).silly('child detail', meta);
    expect(reads).toBe(0);
    logger.verbose('kept', meta);
    logger.child({ node: 'pve1' }).info('child kept');
    expect(reads).toBeGreaterThan(0);
    await closeLogger(logger);
    expect(s.text()).toMatch(/verbose kept detail=looked at\n.*info {4}\[pve1\] child kept\n$/s);
    expect(s.text()).not.toContain('per-request');

    // With a log file, debug entries are wanted (the file takes debug at least).
    const dir = await mkdtemp(join(tmpdir(), 'pfb-log-'));
    dirs.push(dir);
    const file = join(dir, 'run.log');
    const withFile = createLogger({
      level: 'info',
      stderr: sink().out,
      isTty: false,
      logFile: file,
    });
    withFile.child({ node: 'pve1' }).debug('PVE API call', { path: '/version' });
    withFile.silly('too verbose even for the file');
    await closeLogger(withFile);
    const lines = (await readFile(file, 'utf8')).trim().split('\n');
    expect(lines.map((l) => (JSON.parse(l) as { message: string }).message)).toEqual([
      'PVE API call',
    ]);
  });

  it('not a TTY: progress is a plain verbose line (shown with -v only)', async () => {
    const quiet = sink();
    const l1 = createLogger({ level: 'info', stderr: quiet.out, isTty: false });
    progress(l1, 'pve1', 'CT 101: 10%');
    await closeLogger(l1);
    expect(quiet.text()).toBe('');
    const verbose = sink();
    const l2 = createLogger({ level: 'verbose', stderr: verbose.out, isTty: false });
    progress(l2, 'pve1', 'CT 101: 10%');
    await closeLogger(l2);
    expect(verbose.text()).toMatch(/verbose \[pve1\] CT 101: 10%\n$/);
    expect(verbose.text()).not.toContain('\x1b[');
  });
});
