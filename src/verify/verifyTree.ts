/**
 * `verify` for one node tree: every file a generation's manifest lists is on
 * the NAS with its size, every `NAME.sha256` says what the manifest recorded,
 * every manifest is readable; with `deep`, every archive is read back in one
 * pass (sha256 equal to the node's, decompressed to the end, content what
 * vzdump writes: src/archive). Read-only. A problem is a result naming the
 * file and what is wrong, never an exception: one bad file never stops the
 * others from being checked.
 */
import { Writable } from 'node:stream';
import { finished } from 'node:stream/promises';
import { ArchiveChecker } from '../archive/checkArchive.js';
import { errorMessage } from '../errors.js';
import { joinRemote } from '../ftp/layout.js';
import { MANIFEST_NAME, type Manifest, tryParseManifest } from '../ftp/manifest.js';
import { generationOrder, isGenerationName } from '../ftp/rotation/names.js';
import type { NasSession } from '../ftp/session.js';
import { checksumNameFor, parseChecksumFile } from '../orchestrator/checksumFile.js';

export interface FileVerdict {
  /** Set in the report (collect.ts). */
  node?: string;
  generation: string;
  /** The file (or `manifest.json`). */
  name: string;
  vmid?: number;
  ok: boolean;
  problems: string[];
  /** Deep: bytes read back and how long it took. */
  bytes?: number;
  seconds?: number;
}

export interface TreeVerdict {
  node: string;
  /** Generations checked, newest first. */
  generations: string[];
  files: FileVerdict[];
}

export interface VerifyTreeOptions {
  /** `daily.0`, `weekly.1`…; `all` or undefined: every generation. */
  generation?: string;
  /** Only these guests (default: all). */
  vmids: number[];
  deep: boolean;
  /** Deep progress: called with bytes read so far of the current archive. */
  onProgress?: (file: string, bytes: number, total: number) => void;
}

/** Archives get the deep check; their .log and .sha256 only the shallow one. */
const isArchive = (name: string) =>
  /^vzdump-(lxc|openvz|qemu)-\d+-.*\.(tar|tgz|vma)(\.(gz|lzo|zst))?$/.test(name);

export async function verifyTree(
  fs: NasSession,
  nodeDir: string,
  node: string,
  o: VerifyTreeOptions,
): Promise<TreeVerdict> {
  const listed = (await fs.list(nodeDir)) ?? [];
  const generations = listed
    .filter((e) => e.type === 'dir' && isGenerationName(e.name))
    .map((e) => e.name)
    .filter((n) => o.generation === undefined || o.generation === 'all' || n === o.generation)
    .sort((a, b) => generationOrder(a) - generationOrder(b));
  const verdict: TreeVerdict = { node, generations, files: [] };
  for (const generation of generations) {
    verdict.files.push(
      ...(await verifyGeneration(fs, joinRemote(nodeDir, generation), generation, o)),
    );
  }
  return verdict;
}

async function verifyGeneration(
  fs: NasSession,
  dir: string,
  generation: string,
  o: VerifyTreeOptions,
): Promise<FileVerdict[]> {
  const listing = new Map(
    ((await fs.list(dir)) ?? []).filter((e) => e.type === 'file').map((e) => [e.name, e.size]),
  );
  const text = listing.has(MANIFEST_NAME)
    ? await fs.readText(joinRemote(dir, MANIFEST_NAME))
    : undefined;
  const bad = (problem: string): FileVerdict[] => [
    { generation, name: MANIFEST_NAME, ok: false, problems: [problem] },
  ];
  if (text === undefined) return bad('manifest.json is missing: nothing here can be checked');
  const parsed = tryParseManifest(text);
  if (!parsed.ok) return bad(parsed.problem);
  const out: FileVerdict[] = [];
  for (const guest of parsed.manifest.guests) {
    if (guest.status !== 'saved') continue;
    if (o.vmids.length > 0 && !o.vmids.includes(guest.vmid)) continue;
    for (const file of guest.files) {
      out.push(await verifyFile(fs, dir, generation, guest.vmid, file, listing, o));
    }
  }
  return out;
}

type ManifestFile = Manifest['guests'][number]['files'][number];

async function verifyFile(
  fs: NasSession,
  dir: string,
  generation: string,
  vmid: number,
  file: ManifestFile,
  listing: Map<string, number>,
  o: VerifyTreeOptions,
): Promise<FileVerdict> {
  const v: FileVerdict = { generation, name: file.name, vmid, ok: true, problems: [] };
  const size = listing.get(file.name);
  if (size === undefined) v.problems.push('missing on the NAS');
  else if (size !== file.size) {
    v.problems.push(`${size} bytes on the NAS, the manifest says ${file.size}`);
  }
  if (file.sha256 !== undefined) {
    const checksumName = checksumNameFor(file.name);
    const text = listing.has(checksumName)
      ? await fs.readText(joinRemote(dir, checksumName)).catch(() => undefined)
      : undefined;
    if (text === undefined) v.problems.push(`${checksumName} is missing`);
    else {
      const c = parseChecksumFile(text, file.name);
      if ('problem' in c) v.problems.push(`${checksumName}: ${c.problem}`);
      else if (c.sha256 !== file.sha256) {
        v.problems.push(`${checksumName} says ${c.sha256}, the manifest says ${file.sha256}`);
      }
    }
  }
  if (o.deep && size !== undefined && isArchive(file.name)) {
    const t0 = Date.now();
    const read = await readBack(fs, joinRemote(dir, file.name), file, size, o);
    v.bytes = read.bytes;
    v.seconds = (Date.now() - t0) / 1000;
    v.problems.push(...read.problems);
  }
  v.ok = v.problems.length === 0;
  return v;
}

/** Download and check in one pass: the FTP data connection writes straight into the checker. */
async function readBack(
  fs: NasSession,
  path: string,
  file: ManifestFile,
  total: number,
  o: VerifyTreeOptions,
): Promise<{ bytes: number; problems: string[] }> {
  let lastReport = 0;
  const checker = new ArchiveChecker({
    name: file.name,
    ...(file.sha256 ? { expectedSha256: file.sha256 } : {}),
  });
  // Chunk by chunk as they arrive: no stream in between to copy or join them.
  const sink = new Writable({
    highWaterMark: 1 << 20,
    write(chunk: Buffer, _enc, cb) {
      checker.write(chunk).then(() => cb(), cb);
      if (o.onProgress && Date.now() - lastReport > 500) {
        lastReport = Date.now();
        o.onProgress(file.name, checker.bytes, total);
      }
    },
  });
  let downloadProblem: string | undefined;
  try {
    await fs.download(path, sink);
  } catch (error) {
    downloadProblem = `could not be read back: ${errorMessage(error)}`;
  }
  // The download ends when the last byte was handed over, not when the checker took it.
  sink.end();
  await finished(sink).catch(() => undefined);
  const result = await checker.finish();
  const problems = result.problems.map((p) =>
    p.offset !== undefined ? `${p.message} (at byte ${p.offset})` : p.message,
  );
  if (downloadProblem) problems.unshift(downloadProblem);
  return { bytes: result.bytes, problems };
}
