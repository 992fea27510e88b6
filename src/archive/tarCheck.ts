/**
 * Streaming tar check (docs/archive-formats.md): every header's checksum, data
 * skipped with block padding, the end-of-archive marker (two zero blocks), only
 * zeros after it, and the vzdump guest config: an LXC archive starts with
 * `./etc/vzdump/pct.conf` (vzdump names it to tar before the root tree); an
 * OpenVZ archive holds `./etc/vzdump/vps.conf` somewhere in tree order (vzdump
 * copied it into the private area and tars `find .` of that).
 */
import type { ArchiveProblem, ContentChecker } from './types.js';

const BLOCK = 512;
/** Where pct.conf must be: first, with slack for entries a tar tool may put before it. */
const PCT_WITHIN = 4;
const PCT_CONF = 'etc/vzdump/pct.conf';
const VPS_CONF = 'etc/vzdump/vps.conf';
const META_MAX = 64 * 1024;

function parseNumber(h: Buffer, at: number, len: number): number | undefined {
  if (h[at]! & 0x80) {
    let v = 0n;
    for (let i = at + 1; i < at + len; i++) v = (v << 8n) | BigInt(h[i]!);
    return Number(v);
  }
  const text = h
    .toString('latin1', at, at + len)
    .replace(/[\0 ]+$/, '')
    .replace(/^ +/, '');
  if (text === '') return 0;
  return /^[0-7]+$/.test(text) ? Number.parseInt(text, 8) : undefined;
}

function cString(h: Buffer, at: number, len: number): string {
  const end = h.indexOf(0, at);
  return h.toString('utf8', at, end === -1 || end > at + len ? at + len : end);
}

const normalise = (name: string): string => name.replace(/^(\.\/)+/, '').replace(/^\/+/, '');

export class TarCheck implements ContentChecker {
  readonly problems: ArchiveProblem[] = [];
  private offset = 0;
  private header = Buffer.alloc(BLOCK);
  private headerFill = 0;
  /** Bytes of data + padding still to skip in the current entry. */
  private skip = 0;
  private meta: { type: number; data: Buffer[]; len: number } | undefined;
  private longName: string | undefined;
  private zeroBlocks = 0;
  private ended = false;
  private stopped = false;
  private entries: string[] = [];
  private sawVpsConf = false;
  private currentName = '';

  private problem(code: string, message: string, offset?: number): void {
    this.problems.push(offset === undefined ? { code, message } : { code, message, offset });
  }

  push(chunk: Buffer): void {
    let pos = 0;
    while (pos < chunk.length && !this.stopped) {
      if (this.ended) {
        const nonZero = chunk.subarray(pos).findIndex((b) => b !== 0);
        if (nonZero !== -1) {
          this.problem(
            'tar-data-after-end',
            'non-zero data after the tar end-of-archive marker',
            this.offset + nonZero,
          );
          this.stopped = true;
        }
        this.offset += chunk.length - pos;
        return;
      }
      if (this.skip > 0) {
        const n = Math.min(this.skip, chunk.length - pos);
        if (this.meta && this.meta.len < META_MAX) {
          this.meta.data.push(Buffer.from(chunk.subarray(pos, pos + n)));
          this.meta.len += n;
        }
        this.skip -= n;
        pos += n;
        this.offset += n;
        if (this.skip === 0 && this.meta) this.finishMeta();
        continue;
      }
      const n = Math.min(BLOCK - this.headerFill, chunk.length - pos);
      chunk.copy(this.header, this.headerFill, pos, pos + n);
      this.headerFill += n;
      pos += n;
      this.offset += n;
      if (this.headerFill === BLOCK) {
        this.headerFill = 0;
        this.readHeader(this.offset - BLOCK);
      }
    }
    if (this.stopped) this.offset += chunk.length - pos;
  }

  private readHeader(at: number): void {
    const h = this.header;
    if (h.every((b) => b === 0)) {
      this.zeroBlocks++;
      if (this.zeroBlocks === 2) {
        this.ended = true;
        this.checkConfig();
      }
      return;
    }
    if (this.zeroBlocks === 1)
      this.problem('tar-lone-zero-block', 'a lone zero block inside the tar', at - BLOCK);
    this.zeroBlocks = 0;
    let sum = 0;
    for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 0x20 : h[i]!;
    const stored = parseNumber(h, 148, 8);
    if (stored !== sum) {
      this.problem(
        'tar-header-checksum',
        `tar header checksum wrong (stored ${stored ?? 'unreadable'}, computed ${sum})`,
        at,
      );
      this.stopped = true;
      return;
    }
    const size = parseNumber(h, 124, 12);
    if (size === undefined) {
      this.problem('tar-header-size', 'tar header size field is not a number', at);
      this.stopped = true;
      return;
    }
    const type = h[156]!;
    const ustar = h.toString('latin1', 257, 262) === 'ustar';
    const prefix = ustar ? cString(h, 345, 155) : '';
    const name = this.longName ?? (prefix ? `${prefix}/${cString(h, 0, 100)}` : cString(h, 0, 100));
    // Links, directories and devices carry no data whatever their size field says.
    const hasData = !(type >= 0x31 && type <= 0x36);
    this.skip = hasData ? Math.ceil(size / BLOCK) * BLOCK : 0;
    // GNU long name (L), pax extended header (x, g): metadata for the next entry.
    if (type === 0x4c || type === 0x78 || type === 0x67 || type === 0x4b) {
      this.meta = { type, data: [], len: 0 };
      this.currentName = '';
      if (this.skip === 0) this.finishMeta();
      return;
    }
    this.longName = undefined;
    this.currentName = name;
    const normalised = normalise(name);
    if (normalised === VPS_CONF) this.sawVpsConf = true;
    if (this.entries.length < PCT_WITHIN) this.entries.push(name);
  }

  private finishMeta(): void {
    const meta = this.meta!;
    this.meta = undefined;
    const text = Buffer.concat(meta.data).toString('utf8');
    if (meta.type === 0x4c) this.longName = text.replace(/\0.*$/s, '');
    if (meta.type === 0x78) {
      const m = /(?:^|\n)\d+ path=([^\n]*)\n/.exec(text);
      if (m) this.longName = m[1];
    }
  }

  private configChecked = false;

  private checkConfig(): void {
    if (this.configChecked) return;
    this.configChecked = true;
    if (!this.entries.some((e) => normalise(e) === PCT_CONF) && !this.sawVpsConf) {
      this.problem(
        'tar-no-guest-config',
        `no ./etc/vzdump/pct.conf among the first ${PCT_WITHIN} tar entries and no ./etc/vzdump/vps.conf anywhere (first entries: ${this.entries.join(', ') || 'none'})`,
      );
    }
  }

  end(): void {
    if (this.stopped || this.ended) return;
    if (this.skip > 0) {
      this.problem(
        'tar-truncated',
        `tar ends inside the data of entry ${this.currentName || '(metadata)'}, ${this.skip} bytes short`,
        this.offset,
      );
    } else if (this.headerFill > 0) {
      this.problem(
        'tar-truncated',
        `tar ends inside a header block (${this.headerFill} of 512 bytes)`,
        this.offset,
      );
    } else {
      this.problem(
        'tar-no-end-marker',
        'tar ends without its end-of-archive marker (two zero blocks)',
        this.offset,
      );
    }
    this.checkConfig();
  }
}
