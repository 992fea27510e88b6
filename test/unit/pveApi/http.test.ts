import { describe, expect, it } from 'vitest';
import { apiPath, encodeParams } from '../../../src/pveApi/http.js';

describe('apiPath', () => {
  it('encodes each segment so names cannot add or climb a level', () => {
    expect(apiPath('nodes', 'pve1', 'lxc')).toBe('/nodes/pve1/lxc');
    expect(apiPath('nodes', 'n', 'storage', 's', 'content', 'local:backup/vzdump-lxc-1.tar')).toBe(
      '/nodes/n/storage/s/content/local%3Abackup%2Fvzdump-lxc-1.tar',
    );
    expect(apiPath('nodes', 'a/../b')).toBe('/nodes/a%2F..%2Fb');
    expect(apiPath('tasks', 'UPID:n:0:0:0:vzdump::u@pam!t:')).toBe(
      '/tasks/UPID%3An%3A0%3A0%3A0%3Avzdump%3A%3Au%40pam!t%3A',
    );
  });

  it('refuses empty, . and .. segments', () => {
    for (const bad of ['', '.', '..'])
      expect(() => apiPath('nodes', bad)).toThrow(/invalid path segment/);
  });
});

describe('encodeParams', () => {
  it('form-encodes, repeats array keys, maps booleans to 1/0 and drops undefined', () => {
    expect(
      encodeParams({ vmid: 101, storage: 'ftp staging', remove: 0, x: undefined, b: true }),
    ).toBe('vmid=101&storage=ftp+staging&remove=0&b=1');
    expect(encodeParams({ 'exclude-path': ['/a', '/b&c'] })).toBe(
      'exclude-path=%2Fa&exclude-path=%2Fb%26c',
    );
  });
});
