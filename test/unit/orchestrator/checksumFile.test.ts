import { describe, expect, it } from 'vitest';
import { parseChecksumFile } from '../../../src/orchestrator/checksumFile.js';

const NAME = 'vzdump-lxc-101-2026_12_04-02_00_05.tar.zst';
const HEX = 'a'.repeat(32) + 'B'.repeat(32);

describe('parseChecksumFile', () => {
  it('reads sha256sum text and binary mode lines, lower-casing the hex', () => {
    expect(parseChecksumFile(`${HEX}  ${NAME}\n`, NAME)).toEqual({ sha256: HEX.toLowerCase() });
    expect(parseChecksumFile(`${HEX} *${NAME}\r\n`, NAME)).toEqual({ sha256: HEX.toLowerCase() });
  });

  it('refuses another name, a short hash, extra lines and free text', () => {
    expect(parseChecksumFile(`${HEX}  other.tar.zst\n`, NAME)).toEqual({
      problem: expect.stringMatching(/not the archive/),
    });
    expect(parseChecksumFile(`${HEX.slice(1)}  ${NAME}\n`, NAME)).toHaveProperty('problem');
    expect(parseChecksumFile(`${HEX}  ${NAME}\n${HEX}  ${NAME}\n`, NAME)).toEqual({
      problem: 'expected one line, found 2',
    });
    expect(parseChecksumFile('', NAME)).toHaveProperty('problem');
    expect(parseChecksumFile('sha256sum: command not found', NAME)).toHaveProperty('problem');
  });
});
