/**
 * A read-only view of one cluster's API for `doctor`: GET any path with a
 * schema, over the same transport (TLS pinning), auth (token or renewed
 * ticket, secrets handed to the redactor) and retries as the backup client.
 * The preflight reads endpoints the backup never needs (permissions, storage
 * config, vzdump defaults), so it builds on the client's parts rather than
 * widening the client's interface.
 */
import type { z } from 'zod';
import { ApiCaller } from '../pveApi/apiCall.js';
import { createAuth } from '../pveApi/auth.js';
import type { Params } from '../pveApi/http.js';
import { defaultRetryPolicy } from '../pveApi/retry.js';
import { createTransport } from '../pveApi/transport.js';
import type { PveClientOptions } from '../pveApi/types.js';

export interface PveReader {
  get<S extends z.ZodType>(
    path: string,
    schema: S,
    query?: Params,
    signal?: AbortSignal,
  ): Promise<z.output<S>>;
  close(): Promise<void>;
}

/** Opens the reader of one cluster (no request is sent until the first `get`). */
export function openPveReader(o: PveClientOptions): PveReader {
  const url = new URL(o.baseUrl);
  if (url.protocol !== 'https:') throw new TypeError('PVE API URL must use https://');
  const dispatcher = createTransport({
    cluster: o.cluster,
    logger: o.logger,
    ...(o.tls ? { tls: o.tls } : {}),
    ...(o.timeouts ? { timeouts: o.timeouts } : {}),
  });
  let core: ApiCaller;
  const auth = createAuth(o.auth, (form, signal) => core.sendTicket(form, signal), {
    onSecrets: (secrets) => {
      for (const s of secrets) o.onSecret?.(s);
    },
  });
  core = new ApiCaller(
    o.cluster,
    url.origin,
    dispatcher,
    auth,
    { ...defaultRetryPolicy, ...o.retry },
    o.logger,
  );
  return {
    async get(path, schema, query, signal) {
      const { data } = await core.call('GET', path, schema, {
        ...(query ? { query } : {}),
        ...(signal ? { signal } : {}),
      });
      return data;
    },
    close: () => dispatcher.close(),
  };
}
