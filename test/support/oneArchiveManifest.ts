/**
 * A generation's manifest.json that lists one saved LXC guest (101 on pve1)
 * with one archive: what a read-back check needs to find its way to that file.
 */
export function oneArchiveManifest(file: { name: string; size: number; sha256: string }): string {
  return JSON.stringify({
    version: 1,
    runId: 'r',
    node: 'pve1',
    cluster: 'c',
    pveVersion: '9.1.1',
    startedAt: '2026-12-04T02:00:00Z',
    finishedAt: '2026-12-04T02:10:00Z',
    guests: [{ vmid: 101, type: 'lxc', name: 'ct101', status: 'saved', files: [file] }],
  });
}
