/**
 * The pveproxy answer format (docs/pve-facts.md#errors): `{"data": …}` (+`total`) on
 * success; on error the message travels in the HTTP reason phrase, the body is
 * `{"data":null}` plus per-parameter `errors`, plus `message` on PHS ≥ 5.2.0,
 * and the connection is closed after any status ≥ 400.
 */
import type { ServerResponse } from 'node:http';

/** A failure a handler raises; becomes an error answer. */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly errors?: Record<string, string>,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}

/** 400 `Parameter verification failed.` with per-parameter messages. */
export function paramError(errors: Record<string, string>): ApiError {
  return new ApiError(400, 'Parameter verification failed.', errors);
}

/** What a handler returns on success. */
export interface ApiResult {
  data: unknown;
  total?: number;
}

/** Writes a success answer. */
export function sendData(res: ServerResponse, result: ApiResult): void {
  const body: Record<string, unknown> = { data: result.data ?? null };
  // PHS adds total only when the handler set it to a non-zero value.
  if (result.total) body.total = result.total;
  const text = JSON.stringify(body);
  res.writeHead(200, 'OK', {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    'Cache-Control': 'max-age=0',
    Pragma: 'no-cache',
    Server: 'pve-api-daemon/3.0',
  });
  res.end(text);
}

/** Writes an error answer and closes the connection, as pveproxy does. */
export function sendError(res: ServerResponse, err: ApiError, messageInBody: boolean): void {
  // The server keeps only the first line of the message as the reason phrase.
  const firstLine = err.message.split('\n')[0] ?? '';
  // Node refuses reason phrases with characters outside latin-1 (a UTF-8 path in a 501).
  const reason = firstLine.replace(/[^\t\x20-\x7e\xa0-\xff]/g, '?');
  const body: Record<string, unknown> = { data: null };
  if (err.errors) body.errors = err.errors;
  if (messageInBody) body.message = `${err.message}\n`;
  const text = JSON.stringify(body);
  res.shouldKeepAlive = false;
  res.writeHead(err.status, reason, {
    'Content-Type': 'application/json;charset=UTF-8',
    'Content-Length': Buffer.byteLength(text),
    Connection: 'close',
    Server: 'pve-api-daemon/3.0',
  });
  res.end(text);
}
