import { describe, expect, it } from 'vitest';
import {
  incompleteManifest,
  ManifestError,
  parseManifest,
  serializeManifest,
  tryParseManifest,
} from '../../../../src/ftp/manifest.js';
import { manifestFor } from './trees.js';

describe('manifest', () => {
  it('round-trips through serialize and parse', () => {
    const m = manifestFor('run-1', [
      { vmid: 101, status: 'saved' },
      { vmid: 102, status: 'failed' },
    ]);
    const text = serializeManifest(m);
    expect(text.endsWith('\n')).toBe(true);
    expect(parseManifest(text)).toEqual(m);
  });

  it('accepts the incomplete marker of an adopted transfer/', () => {
    const m = incompleteManifest({ runId: 'r', node: 'pve1', at: '2026-11-30T03:00:00Z' });
    expect(parseManifest(serializeManifest(m)).incomplete).toBe(true);
  });

  it.each([
    ['not JSON', '{"version":1,', /not valid JSON/],
    ['wrong version', JSON.stringify({ ...manifestFor('r', []), version: 2 }), /at version/],
    [
      'bad status',
      JSON.stringify({
        ...manifestFor('r', [{ vmid: 1, status: 'saved' }]),
        guests: [{ vmid: 1, type: 'lxc', name: 'a', status: 'ok', files: [] }],
      }),
      /at guests\.0\.status/,
    ],
    [
      'negative size',
      JSON.stringify({
        ...manifestFor('r', []),
        guests: [
          { vmid: 1, type: 'lxc', name: 'a', status: 'saved', files: [{ name: 'x', size: -1 }] },
        ],
      }),
      /guests\.0\.files\.0\.size/,
    ],
  ])('rejects %s, naming where', (_label, text, message) => {
    expect(() => parseManifest(text)).toThrow(ManifestError);
    expect(() => parseManifest(text)).toThrow(message);
    const r = tryParseManifest(text);
    expect(r.ok).toBe(false);
  });

  it('refuses to serialize an invalid manifest', () => {
    const m = { ...manifestFor('r', []), runId: '' };
    expect(() => serializeManifest(m)).toThrow();
  });
});
