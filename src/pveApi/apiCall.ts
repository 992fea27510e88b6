/**
 * One API call, end to end: auth headers, the HTTP exchange, 401 → one
 * re-login, PVE's error conventions (message in the reason phrase, or in body
 * `message` since PHS 5.2.0; per-parameter `errors` on 400), the `{ data }`
 * envelope checked with zod, and retries for idempotent calls. Everything that
 * goes wrong becomes a PveApiError / PveAuthError / PveTlsError whose message
 * names cluster, method and path only.
 */
import type { Dispatcher } from 'undici';
import type { z } from 'zod';
import { errorMessage } from '../errors.js';
import type { Logger } from '../log.js';
import { type AuthState, LoginRejected } from './auth.js';
import { errorCode, findTlsError, PveApiError, PveAuthError } from './errors.js';
import { type Params, type RawResponse, sendRequest } from './http.js';
import { isRetryable, type RetryPolicy, withRetry } from './retry.js';
import { Envelope, ErrorBody } from './schemas.js';

const LOGIN_PATH = '/access/ticket';

/** Options of one call. */
export interface CallOptions {
  query?: Params;
  form?: Params;
  signal?: AbortSignal;
  /** Which failures may be retried; default: isRetryable for GET, nothing otherwise. */
  retryOn?: (err: unknown) => boolean;
}

/** A validated answer: `data` and the envelope's `total` (task logs and lists). */
export interface CallResult<T> {
  data: T;
  total?: number;
}

/** The request engine shared by every endpoint of one cluster. */
export class ApiCaller {
  constructor(
    readonly cluster: string,
    private readonly origin: string,
    private readonly dispatcher: Dispatcher,
    readonly auth: AuthState,
    readonly policy: RetryPolicy,
    private readonly logger: Logger,
  ) {}

  /** Sends the request and validates `data` with `schema`. */
  async call<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    schema: S,
    options: CallOptions = {},
  ): Promise<CallResult<z.output<S>>> {
    const retryOn = options.retryOn ?? (method === 'GET' ? isRetryable : () => false);
    return withRetry(() => this.once(method, path, schema, options), {
      policy: this.policy,
      // A transient failure of the login that precedes the call is retryable for every method:
      // the call itself was not sent yet.
      classify: (err) => retryOn(err) || (isLoginFailure(err) && isRetryable(err)),
      signal: options.signal,
      onRetry: (err, attempt, delayMs) =>
        this.logger.warn('PVE API call failed, retrying', {
          cluster: this.cluster,
          method,
          path,
          attempt,
          delayMs,
          status: err instanceof PveApiError ? err.status : undefined,
          code: errorCode(err),
        }),
    });
  }

  /** The raw ticket exchange for auth.ts: no auth headers, never retried here, nothing logged but the path. */
  sendTicket = async (form: Params, signal?: AbortSignal): Promise<RawResponse> => {
    try {
      return await sendRequest(this.dispatcher, this.origin, {
        method: 'POST',
        path: LOGIN_PATH,
        form,
        signal,
      });
    } catch (err) {
      throw this.transportError('POST', LOGIN_PATH, err, signal);
    }
  };

  private async once<S extends z.ZodType>(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    schema: S,
    options: CallOptions,
  ): Promise<CallResult<z.output<S>>> {
    let res = await this.exchange(method, path, options);
    if (res.status === 401) {
      // A ticket may have been invalidated (server restart, key rotation): one fresh login, one more try.
      if (await this.reloginOr401(method, path, res, options.signal)) {
        res = await this.exchange(method, path, options);
      }
      if (res.status === 401) throw this.authError(method, path, res.status, messageOf(res));
    }
    if (res.status < 200 || res.status >= 300) {
      const body = ErrorBody.safeParse(res.body ?? {});
      const errors = body.success ? (body.data.errors ?? undefined) : undefined;
      throw new PveApiError({
        cluster: this.cluster,
        method,
        path,
        status: res.status,
        pveMessage: messageOf(res),
        ...(errors && Object.keys(errors).length > 0 ? { paramErrors: errors } : {}),
      });
    }
    const envelope = Envelope.safeParse(res.body);
    const parsed = envelope.success ? schema.safeParse(envelope.data.data) : undefined;
    if (!envelope.success || !parsed?.success) {
      const issue = parsed && !parsed.success ? parsed.error.issues[0] : undefined;
      const where = issue
        ? ` at data${issue.path.map((p) => `[${JSON.stringify(p)}]`).join('')}: ${issue.message}`
        : '';
      throw new PveApiError({
        cluster: this.cluster,
        method,
        path,
        status: res.status,
        pveMessage: `unexpected answer${where}`,
      });
    }
    return {
      data: parsed.data,
      ...(envelope.data.total !== undefined ? { total: envelope.data.total } : {}),
    };
  }

  private async exchange(
    method: 'GET' | 'POST' | 'PUT' | 'DELETE',
    path: string,
    options: CallOptions,
  ): Promise<RawResponse> {
    let headers: Record<string, string>;
    try {
      headers = await this.auth.headers(method, options.signal);
    } catch (err) {
      throw this.loginError(err);
    }
    const started = Date.now();
    try {
      const res = await sendRequest(this.dispatcher, this.origin, {
        method,
        path,
        headers,
        signal: options.signal,
        ...(options.query ? { query: options.query } : {}),
        ...(options.form ? { form: options.form } : {}),
      });
      this.logger.debug('PVE API call', {
        cluster: this.cluster,
        method,
        path,
        status: res.status,
        ms: Date.now() - started,
      });
      return res;
    } catch (err) {
      throw this.transportError(method, path, err, options.signal);
    }
  }

  private async reloginOr401(
    method: string,
    path: string,
    res: RawResponse,
    signal?: AbortSignal,
  ): Promise<boolean> {
    try {
      return await this.auth.relogin(signal);
    } catch (err) {
      if (err instanceof LoginRejected && err.status === 401) {
        throw this.authError(method, path, res.status, messageOf(res), err);
      }
      throw this.loginError(err);
    }
  }

  /** Maps a failed login (from auth.ts) to the error the caller sees. */
  private loginError(err: unknown): unknown {
    if (err instanceof LoginRejected) {
      if (err.status === 401 || err.status === 403) {
        return this.authError('POST', LOGIN_PATH, err.status, err.reason);
      }
      return new PveApiError({
        cluster: this.cluster,
        method: 'POST',
        path: LOGIN_PATH,
        status: err.status,
        pveMessage: err.reason,
      });
    }
    return err;
  }

  private authError(
    method: string,
    path: string,
    status: number,
    pveMessage: string,
    cause?: unknown,
  ): PveAuthError {
    // PVE < 6.2 ignores the token header and complains about the missing ticket.
    const hint =
      this.auth.kind === 'token' && /^no ticket$/i.test(pveMessage)
        ? `${pveMessage} - API tokens need PVE >= 6.2; use user and password on older versions`
        : pveMessage;
    return new PveAuthError({
      cluster: this.cluster,
      method,
      path,
      status,
      pveMessage: hint,
      principal: this.auth.principal,
      ...(cause ? { cause } : {}),
    });
  }

  /** TLS and abort errors pass through untouched; anything else becomes a PveApiError without status. */
  private transportError(
    method: string,
    path: string,
    err: unknown,
    signal?: AbortSignal,
  ): unknown {
    if (signal?.aborted) return err;
    const tls = findTlsError(err);
    if (tls) return tls;
    const code = errorCode(err);
    return new PveApiError({
      cluster: this.cluster,
      method,
      path,
      ...(code ? { code } : {}),
      pveMessage: errorMessage(err),
      cause: err,
    });
  }
}

/** True for an error of the `POST /access/ticket` that preceded a call. */
export function isLoginFailure(err: unknown): boolean {
  return err instanceof PveApiError && err.path === LOGIN_PATH;
}

/** PVE's error text: body `message` (PHS >= 5.2.0), else the reason phrase; first line only. */
function messageOf(res: RawResponse): string {
  const body = ErrorBody.safeParse(res.body ?? {});
  const fromBody = body.success ? body.data.message?.trim() : undefined;
  const text = fromBody || res.reason.trim();
  return text.split('\n')[0] ?? '';
}
