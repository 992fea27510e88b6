import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { UnsafeNameError } from '../../../src/ftp/errors.js';
import {
  assertSafeName,
  joinRemote,
  nodeLayout,
  normalizeRemoteDir,
} from '../../../src/ftp/layout.js';

describe('nodeLayout', () => {
  it('puts the node tree under dir', () => {
    const l = nodeLayout('/disk1/backup/dump', 'pve1');
    expect(l.nodeDir).toBe('/disk1/backup/dump/pve1');
    expect(l.transfer).toBe('/disk1/backup/dump/pve1/transfer');
    expect(l.lock).toBe('/disk1/backup/dump/pve1/.lock');
  });

  it('normalizes slashes in dir, including the root', () => {
    expect(nodeLayout('/', 'pve1').nodeDir).toBe('/pve1');
    expect(nodeLayout('//a//b/', 'n').nodeDir).toBe('/a/b/n');
  });

  it.each([
    ['', 'empty'],
    ['.', 'directory link'],
    ['..', 'directory link'],
    ['../etc', 'separator'],
    ['a/b', 'separator'],
    ['a\\b', 'separator'],
    ['pve1\r\nDELE x', 'control'],
    ['pve\u0000', 'control'],
    ['pve\u007f', 'control'],
    ['x'.repeat(256), 'too long'],
  ])('refuses the node name %j', (node, why) => {
    expect(() => nodeLayout('/dump', node)).toThrow(UnsafeNameError);
    expect(() => nodeLayout('/dump', node)).toThrow(new RegExp(why));
  });

  it.each(['relative/dir', '/a/../b', '/a/./b', '/a\nb'])('refuses the dir %j', (dir) => {
    expect(() => nodeLayout(dir, 'pve1')).toThrow(UnsafeNameError);
  });

  it('accepts ordinary node names, including dots and UTF-8', () => {
    for (const node of ['pve1', 'node-2.lan', 'knoten-ü', '...x', 'a b']) {
      expect(nodeLayout('/d', node).nodeDir).toBe(`/d/${node}`);
    }
  });

  it('never yields a path outside dir for any accepted name (property)', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary', maxLength: 40 }), (node) => {
        let layout: ReturnType<typeof nodeLayout>;
        try {
          layout = nodeLayout('/base/dir', node);
        } catch (error) {
          expect(error).toBeInstanceOf(UnsafeNameError);
          return;
        }
        const rest = layout.nodeDir.slice('/base/dir/'.length);
        expect(layout.nodeDir.startsWith('/base/dir/')).toBe(true);
        expect(rest).toBe(node);
        expect(rest.split('/')).toHaveLength(1);
        expect(['.', '..']).not.toContain(rest);
        // biome-ignore lint/suspicious/noControlCharactersInRegex: checking for control characters
        expect(rest).not.toMatch(/[\u0000-\u001f\u007f]/);
      }),
      { numRuns: 500 },
    );
  });
});

describe('path helpers', () => {
  it('joinRemote joins one safe segment', () => {
    expect(joinRemote('/a/b/', 'c d.log')).toBe('/a/b/c d.log');
    expect(joinRemote('/', 'x')).toBe('/x');
    expect(() => joinRemote('/a', '../x')).toThrow(UnsafeNameError);
  });

  it('normalizeRemoteDir keeps absolute paths and names the problem', () => {
    expect(normalizeRemoteDir('/a//b/')).toBe('/a/b');
    expect(() => normalizeRemoteDir('a/b', 'ftp.dir')).toThrow(/ftp\.dir.*not an absolute path/);
  });

  it('assertSafeName names what was refused', () => {
    expect(() => assertSafeName('a/b', 'guest file name')).toThrow(
      'refusing guest file name "a/b": it contains a path separator',
    );
  });
});
