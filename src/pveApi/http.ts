/**
 * The raw HTTP exchange with pveproxy: form-encoded bodies with
 * Content-Length (JSON bodies only work from PVE 6.2 and proxy correctly only
 * from 8.0), path segments encoded one by one, bounded answer size. No auth,
 * no envelope, no errors beyond transport: client.ts adds those.
 */
import type { Dispatcher } from 'undici';

/** Query or form parameters; arrays repeat the key (PVE's list convention). */
export type Params = Record<
  string,
  string | number | boolean | readonly (string | number)[] | undefined
>;

/** What went over the wire and back. */
export interface RawResponse {
  status: number;
  /** HTTP reason phrase: PVE's error message before PHS 5.2.0. */
  reason: string;
  /** Parsed JSON, or undefined when the body was empty or not JSON. */
  body: unknown;
}

/** A request for sendRequest. `path` is already encoded (see apiPath). */
export interface RawRequest {
  method: 'GET' | 'POST' | 'PUT' | 'DELETE';
  path: string;
  query?: Params;
  form?: Params;
  headers?: Record<string, string>;
  signal?: AbortSignal;
}

/** Answers above this size are refused: no PVE answer we read comes near it (task log pages are limited). */
const MAX_BODY_BYTES = 32 * 1024 * 1024;

/**
 * Builds `/a/b/c` from segments, each percent-encoded as one path segment, so a
 * name from the API (node, storage, UPID, volid with its `/`) can never add or
 * climb a path level. `.` and `..` and empty segments are refused.
 */
export function apiPath(...segments: (string | number)[]): string {
  return segments
    .map((s) => {
      const text = String(s);
      if (text === '' || text === '.' || text === '..') {
        throw new TypeError(`invalid path segment ${JSON.stringify(text)}`);
      }
      return `/${encodeURIComponent(text)}`;
    })
    .join('');
}

/** `application/x-www-form-urlencoded` (also used for query strings); undefined values are left out. */
export function encodeParams(params: Params): string {
  const out = new URLSearchParams();
  for (const [key, value] of Object.entries(params)) {
    if (value === undefined) continue;
    if (Array.isArray(value)) {
      for (const v of value) out.append(key, String(v));
    } else if (typeof value === 'boolean') {
      out.append(key, value ? '1' : '0');
    } else {
      out.append(key, String(value));
    }
  }
  return out.toString();
}

/** Sends one request to `<origin>/api2/json<path>` and reads the whole (bounded) answer. */
export async function sendRequest(
  dispatcher: Dispatcher,
  origin: string,
  req: RawRequest,
): Promise<RawResponse> {
  const qs = req.query ? encodeParams(req.query) : '';
  const headers: Record<string, string> = { accept: 'application/json', ...req.headers };
  let body: string | undefined;
  if (req.form !== undefined || req.method === 'POST' || req.method === 'PUT') {
    body = encodeParams(req.form ?? {});
    headers['content-type'] = 'application/x-www-form-urlencoded';
    headers['content-length'] = String(Buffer.byteLength(body));
  }
  const res = await dispatcher.request({
    origin,
    path: `/api2/json${req.path}${qs ? `?${qs}` : ''}`,
    method: req.method,
    headers,
    body,
    signal: req.signal,
  });
  const text = await readBounded(res.body);
  let parsed: unknown;
  if (text.length > 0) {
    try {
      parsed = JSON.parse(text);
    } catch {
      parsed = undefined;
    }
  }
  return { status: res.statusCode, reason: res.statusText ?? '', body: parsed };
}

async function readBounded(body: Dispatcher.ResponseData['body']): Promise<string> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    const buf = Buffer.isBuffer(chunk) ? chunk : Buffer.from(chunk as Uint8Array);
    size += buf.length;
    if (size > MAX_BODY_BYTES) {
      body.destroy();
      throw Object.assign(new Error(`answer larger than ${MAX_BODY_BYTES} bytes`), {
        code: 'PVE_ANSWER_TOO_LARGE',
      });
    }
    chunks.push(buf);
  }
  return Buffer.concat(chunks).toString('utf8');
}
