/**
 * An in-memory RemoteFs that behaves like the real FTP servers measured in
 * our FTP server tests (test/integration/ftp) where it matters to rotation:
 * - rename onto a non-empty directory fails (like pure-ftpd's 451 / others' 550);
 * - rename of a directory onto an EMPTY directory silently replaces it;
 * - rename of a file onto a file silently overwrites it;
 * - rename or remove of a missing path fails with a 550-style error, except
 *   where RemoteFs promises "no error when it does not exist".
 *
 * Crash injection: `crashAfter(k)` makes the k+1-th mutating operation throw
 * {@link SimulatedCrash} before it takes effect. A recursive removeDir counts
 * one operation per file and per directory, like the DELE/RMD it costs on FTP,
 * so a crash can leave a half-deleted directory.
 *
 * The NAS clock: every file written gets the time of `clock` (a number of ms
 * the test moves with `advance()`), and `modifiedAt` answers it like MDTM
 * (files only), so a test of a 10-minute lease runs in milliseconds.
 * `goSilent()` plays a NAS that stops answering: every call then fails like a
 * session whose reconnect failed, and `gone` fires.
 */
import { posix } from 'node:path';
import type { Writable } from 'node:stream';
import type { RemoteEntry } from '../../src/ftp/remoteFs.js';
import type { NasSession } from '../../src/ftp/session.js';

type DirNode = { kind: 'dir'; children: Map<string, Node> };
type Node = { kind: 'file'; data: string; mtime: number } | DirNode;

/** Thrown by a mutating call once the crash budget is spent. */
export class SimulatedCrash extends Error {
  constructor() {
    super('simulated crash');
    this.name = 'SimulatedCrash';
  }
}

/** A server-side refusal (what basic-ftp reports as FTPError 550/451). */
export class MemoryFsError extends Error {
  constructor(
    readonly code: number,
    message: string,
  ) {
    super(message);
    this.name = 'MemoryFsError';
  }
}

/** A snapshot: every path (relative to '/') to its content, directories as `<dir>`. */
export type TreeSnapshot = Record<string, string>;

export class MemoryFs implements NasSession {
  private readonly root: DirNode = { kind: 'dir', children: new Map() };
  /** Every call made, by method name: the "FTP command" proxy counter. */
  readonly calls: Record<string, number> = {};
  /** Mutating operations performed so far. */
  mutations = 0;
  private budget = Number.POSITIVE_INFINITY;
  /** The NAS's clock in ms (any epoch; tests move it with advance()). */
  clock = Date.UTC(2026, 11, 1, 2, 0, 0);
  private readonly goneController = new AbortController();
  private silent: Error | undefined;

  /** Fires when goSilent() was called. */
  get gone(): AbortSignal {
    return this.goneController.signal;
  }

  /** Move the NAS clock forward. */
  advance(ms: number): void {
    this.clock += ms;
  }

  /** From now on every call fails (as after a failed reconnect) and `gone` fires. */
  goSilent(): void {
    this.silent = new MemoryFsError(0, 'the NAS does not answer');
    this.goneController.abort(this.silent);
  }

  /** The NAS answers again for the brief last attempt when `answers` (default: still silent). */
  reviveAnswers = false;

  async revive(_timeoutMs: number): Promise<boolean> {
    if (!this.silent) return true;
    if (!this.reviveAnswers) return false;
    this.silent = undefined;
    return true;
  }

  async modifiedAt(path: string): Promise<Date | undefined> {
    this.count('modifiedAt');
    const n = this.lookup(path);
    return n?.kind === 'file' ? new Date(n.mtime) : undefined;
  }

  /** Test setup: set a file's modification time (as `touch -d` on the NAS would). */
  setModifiedAt(path: string, time: number): void {
    const n = this.lookup(path);
    if (n?.kind !== 'file') throw new Error(`setModifiedAt: ${path} is not a file`);
    n.mtime = time;
  }

  /** Throw SimulatedCrash on the (k+1)-th mutating operation from now on. */
  /** Nothing to close in memory; lets the real node adapter bind to this NAS. */
  close(): void {}

  crashAfter(k: number): void {
    this.budget = this.mutations + k;
  }

  /** Lift the crash budget (the "next run" works normally). */
  heal(): void {
    this.budget = Number.POSITIVE_INFINITY;
  }

  async list(dir: string): Promise<RemoteEntry[] | undefined> {
    this.count('list');
    const n = this.lookup(dir);
    if (n?.kind !== 'dir') return undefined;
    return [...n.children].map(([name, c]) => ({
      name,
      type: c.kind,
      size: c.kind === 'file' ? Buffer.byteLength(c.data) : 0,
    }));
  }

  async size(path: string): Promise<number | undefined> {
    this.count('size');
    const n = this.lookup(path);
    return n?.kind === 'file' ? Buffer.byteLength(n.data) : undefined;
  }

  async exists(path: string): Promise<'dir' | 'file' | undefined> {
    this.count('exists');
    return this.lookup(path)?.kind;
  }

  async mkdirp(dir: string): Promise<void> {
    this.count('mkdirp');
    let cur: DirNode = this.root;
    for (const part of split(dir)) {
      let next = cur.children.get(part);
      if (!next) {
        this.mutate();
        next = { kind: 'dir', children: new Map() };
        cur.children.set(part, next);
      }
      if (next.kind !== 'dir') throw new MemoryFsError(550, `${dir}: not a directory`);
      cur = next;
    }
  }

  async mkdirExclusive(dir: string): Promise<boolean> {
    this.count('mkdirExclusive');
    const [parent, name] = this.parentOf(dir);
    if (!parent) throw new MemoryFsError(550, `${dir}: no such directory`);
    if (parent.children.has(name)) return false;
    this.mutate();
    parent.children.set(name, { kind: 'dir', children: new Map() });
    return true;
  }

  async rename(from: string, to: string): Promise<void> {
    this.count('rename');
    const src = this.lookup(from);
    if (!src) throw new MemoryFsError(550, `${from}: no such file or directory`);
    const [toParent, toName] = this.parentOf(to);
    if (!toParent) throw new MemoryFsError(550, `${to}: no such directory`);
    const existing = toParent.children.get(toName);
    if (existing?.kind === 'dir' && existing.children.size > 0) {
      throw new MemoryFsError(451, `Rename/move failure: Directory not empty`);
    }
    if (existing && existing.kind !== src.kind) {
      throw new MemoryFsError(550, `${to}: cannot replace`);
    }
    if (src.kind === 'dir' && isInside(to, from))
      throw new MemoryFsError(550, 'rename into itself');
    this.mutate();
    const [fromParent, fromName] = this.parentOf(from);
    fromParent!.children.delete(fromName);
    toParent.children.set(toName, src); // silently replaces an empty dir or a file
  }

  async removeDir(dir: string): Promise<void> {
    this.count('removeDir');
    const n = this.lookup(dir);
    if (!n) return;
    if (n.kind !== 'dir') throw new MemoryFsError(550, `${dir}: not a directory`);
    this.removeTree(n);
    this.mutate();
    const [parent, name] = this.parentOf(dir);
    parent!.children.delete(name);
  }

  async removeFile(path: string): Promise<void> {
    this.count('removeFile');
    const n = this.lookup(path);
    if (!n) return;
    if (n.kind !== 'file') throw new MemoryFsError(550, `${path}: is a directory`);
    this.mutate();
    const [parent, name] = this.parentOf(path);
    parent!.children.delete(name);
  }

  async readText(path: string): Promise<string | undefined> {
    this.count('readText');
    const n = this.lookup(path);
    return n?.kind === 'file' ? n.data : undefined;
  }

  async download(path: string, dest: Writable): Promise<void> {
    this.count('download');
    const n = this.lookup(path);
    if (n?.kind !== 'file') throw new MemoryFsError(550, `${path}: no such file`);
    dest.write(Buffer.from(n.data, 'utf8'));
  }

  /** Atomic here: there is no temp name to place (`tempPath` is the FTP session's concern). */
  async writeText(path: string, text: string, _o?: { tempPath?: string }): Promise<void> {
    this.count('writeText');
    const [parent, name] = this.parentOf(path);
    if (!parent) throw new MemoryFsError(550, `${path}: no such directory`);
    if (parent.children.get(name)?.kind === 'dir')
      throw new MemoryFsError(550, `${path}: is a dir`);
    this.mutate();
    parent.children.set(name, { kind: 'file', data: text, mtime: this.clock });
  }

  /** Test setup without counting or crashing: create a file (and its parents). */
  seedFile(path: string, data: string): void {
    let cur: DirNode = this.root;
    const parts = split(path);
    const name = parts.pop()!;
    for (const part of parts) {
      let next = cur.children.get(part);
      if (!next) {
        next = { kind: 'dir', children: new Map() };
        cur.children.set(part, next);
      }
      if (next.kind !== 'dir') throw new Error(`seed: ${part} is a file`);
      cur = next;
    }
    cur.children.set(name, { kind: 'file', data, mtime: this.clock });
  }

  /** Test setup: create an (empty) directory and its parents. */
  seedDir(path: string): void {
    let cur: DirNode = this.root;
    for (const part of split(path)) {
      let next = cur.children.get(part);
      if (!next) {
        next = { kind: 'dir', children: new Map() };
        cur.children.set(part, next);
      }
      if (next.kind !== 'dir') throw new Error(`seed: ${part} is a file`);
      cur = next;
    }
  }

  /** Every path under `dir` with its content (`<dir>` for directories), sorted. */
  snapshot(dir = '/'): TreeSnapshot {
    const out: TreeSnapshot = {};
    const walk = (n: Node, prefix: string) => {
      if (n.kind === 'file') {
        out[prefix] = n.data;
        return;
      }
      if (prefix !== '') out[prefix] = '<dir>';
      for (const name of [...n.children.keys()].sort()) {
        walk(n.children.get(name)!, prefix === '' ? name : `${prefix}/${name}`);
      }
    };
    const start = this.lookup(dir);
    if (start) walk(start, '');
    return out;
  }

  private removeTree(n: DirNode): void {
    for (const [name, c] of [...n.children]) {
      if (c.kind === 'dir') this.removeTree(c);
      this.mutate();
      n.children.delete(name);
    }
  }

  private count(op: string): void {
    if (this.silent) throw this.silent;
    this.calls[op] = (this.calls[op] ?? 0) + 1;
  }

  private mutate(): void {
    if (this.mutations >= this.budget) throw new SimulatedCrash();
    this.mutations++;
  }

  private lookup(path: string): Node | undefined {
    let cur: Node = this.root;
    for (const part of split(path)) {
      if (cur.kind !== 'dir') return undefined;
      const next = cur.children.get(part);
      if (!next) return undefined;
      cur = next;
    }
    return cur;
  }

  private parentOf(path: string): [DirNode | undefined, string] {
    const parts = split(path);
    const name = parts.pop() ?? '';
    const parent = this.lookup(`/${parts.join('/')}`);
    return [parent?.kind === 'dir' ? parent : undefined, name];
  }
}

function split(path: string): string[] {
  const norm = posix.normalize(`/${path}`);
  return norm.split('/').filter((p) => p !== '');
}

function isInside(path: string, dir: string): boolean {
  const a = posix.normalize(`/${path}`);
  const b = posix.normalize(`/${dir}`);
  return a === b || a.startsWith(`${b}/`);
}
