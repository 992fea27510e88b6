/**
 * The uncompressed tar stream vzdump writes for a container (docs/archive-formats.md):
 * LXC: `./etc/vzdump/pct.conf` first (tar is handed it before the root tree),
 * then the tree from `./`. OpenVZ: vzdump copies the config into the private
 * area as `etc/vzdump/vps.conf` and tars a `find .` of it, so vps.conf comes in
 * tree order. Then the end-of-archive marker (two zero blocks).
 * The payload length is free: a filler file takes the bulk, and zero bytes after
 * the end-of-archive marker (as tar's own record padding) take the last < 512.
 */
import { Filler, fillerChunks, zeroChunks } from './archiveFiller.js';

const BLOCK = 512;
const MTIME = 1_700_000_000;

/** Writes `value` as zero-padded octal into `len` bytes (last byte NUL), or base-256 when too big. */
function putNumber(h: Buffer, at: number, len: number, value: number): void {
  const oct = value.toString(8);
  if (oct.length <= len - 1) {
    h.write(oct.padStart(len - 1, '0'), at, 'ascii');
    h[at + len - 1] = 0;
    return;
  }
  // GNU base-256: high bit of the first byte set, big-endian value in the rest.
  h.fill(0, at, at + len);
  let v = BigInt(value);
  for (let i = at + len - 1; i > at; i--) {
    h[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  h[at] = 0x80;
}

/** One POSIX ustar header block. */
export function tarHeader(name: string, type: 'file' | 'dir', size: number, mode: number): Buffer {
  if (Buffer.byteLength(name) > 100) throw new Error(`tar entry name too long: ${name}`);
  const h = Buffer.alloc(BLOCK);
  h.write(name, 0, 'utf8');
  putNumber(h, 100, 8, mode);
  putNumber(h, 108, 8, 0);
  putNumber(h, 116, 8, 0);
  putNumber(h, 124, 12, size);
  putNumber(h, 136, 12, MTIME);
  h[156] = type === 'dir' ? 0x35 : 0x30;
  h.write('ustar\u000000', 257, 'latin1');
  h.write('root', 265, 'ascii');
  h.write('root', 297, 'ascii');
  h.fill(0x20, 148, 156);
  let sum = 0;
  for (const b of h) sum += b;
  h.write(`${sum.toString(8).padStart(6, '0')}\u0000 `, 148, 'latin1');
  return h;
}

function fileEntry(name: string, content: string): Buffer {
  const data = Buffer.from(content);
  const padded = Buffer.alloc(Math.ceil(data.length / BLOCK) * BLOCK);
  data.copy(padded);
  return Buffer.concat([tarHeader(name, 'file', data.length, 0o644), padded]);
}

const dirEntry = (name: string): Buffer => tarHeader(name, 'dir', 0, 0o755);

/** The guest config vzdump stores, in PVE's own syntax. */
export function containerConfig(kind: 'lxc' | 'openvz', vmid: number): string {
  return kind === 'lxc'
    ? `arch: amd64\nhostname: ct${vmid}\nmemory: 512\nnet0: name=eth0,bridge=vmbr0,ip=dhcp,type=veth\nostype: debian\nrootfs: local-lvm:vm-${vmid}-disk-0,size=8G\nswap: 512\n`
    : `ONBOOT="yes"\nPHYSPAGES="0:262144"\nVE_ROOT="/var/lib/vz/root/$VEID"\nOSTEMPLATE="debian-7.0-standard_7.0-2_i386"\nHOSTNAME="ct${vmid}"\n`;
}

/** Everything before the filler file's header. */
function head(kind: 'lxc' | 'openvz', vmid: number): Buffer {
  const conf = containerConfig(kind, vmid);
  const tree = [
    dirEntry('./'),
    dirEntry('./etc/'),
    fileEntry('./etc/hostname', `ct${vmid}\n`),
    fileEntry('./etc/os-release', 'PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"\nID=debian\n'),
    ...(kind === 'openvz'
      ? [dirEntry('./etc/vzdump/'), fileEntry('./etc/vzdump/vps.conf', conf)]
      : []),
    dirEntry('./root/'),
    dirEntry('./var/'),
    dirEntry('./var/lib/'),
  ];
  return Buffer.concat(kind === 'lxc' ? [fileEntry('./etc/vzdump/pct.conf', conf), ...tree] : tree);
}

/** Smallest payload a tar of this kind can have (empty filler file). */
export function minTarPayload(kind: 'lxc' | 'openvz', vmid: number): number {
  return head(kind, vmid).length + BLOCK + 2 * BLOCK;
}

/** Yields exactly `payload` bytes of a valid tar stream (payload ≥ minTarPayload). */
export function* tarStream(
  kind: 'lxc' | 'openvz',
  vmid: number,
  seed: number,
  payload: number,
): Generator<Buffer> {
  const h = head(kind, vmid);
  const fixed = h.length + BLOCK + 2 * BLOCK;
  if (payload < fixed) throw new Error(`tar payload ${payload} below minimum ${fixed}`);
  const fillerSize = Math.floor((payload - fixed) / BLOCK) * BLOCK;
  yield h;
  yield tarHeader('./var/lib/guest-data.img', 'file', fillerSize, 0o600);
  yield* fillerChunks(new Filler(seed, 'tar'), fillerSize);
  yield* zeroChunks(payload - fixed - fillerSize + 2 * BLOCK);
}
