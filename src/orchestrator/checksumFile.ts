/**
 * The node hook's NAME.sha256: one line in sha256sum's format, `<64 hex>  NAME`
 * (two spaces, or ` *` for binary mode). Parsed strictly: the name must be
 * the archive's, so a checksum can never be recorded for another file.
 */

/** The sha256 that `text` states for `archiveName`, or a problem in words. */
export function parseChecksumFile(
  text: string,
  archiveName: string,
): { sha256: string } | { problem: string } {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  if (lines.length !== 1) return { problem: `expected one line, found ${lines.length}` };
  const m = /^([0-9a-fA-F]{64}) [ *](.+)$/.exec(lines[0]?.replace(/\r$/, '') ?? '');
  if (!m) return { problem: 'not in sha256sum format (<64 hex digits>  <name>)' };
  if (m[2] !== archiveName) return { problem: `names ${JSON.stringify(m[2])}, not the archive` };
  return { sha256: (m[1] ?? '').toLowerCase() };
}

/** The checksum file's name for an archive. */
export const checksumNameFor = (archiveName: string): string => `${archiveName}.sha256`;
