/**
 * Error classes of the PVE API client. One class for "the API (or the way to
 * it) said no" — PveApiError — plus two the CLI maps to exit 3: wrong
 * credentials (PveAuthError) and an untrusted or mismatching certificate
 * (PveTlsError). Messages name cluster, method and path, never a header value,
 * a query string or a request body (the body of /access/ticket holds the
 * password), so no secret can leak through a message.
 */

/** Details of a failed API call, as PveApiError carries them. */
export interface PveApiErrorDetails {
  cluster: string;
  method: string;
  /** Path after /api2/json, without query string. */
  path: string;
  /** HTTP status, PVE pseudo-status (595/596), or undefined when no answer arrived. */
  status?: number;
  /** PVE's error text: body `message` (PHS >= 5.2.0) or the HTTP reason phrase. */
  pveMessage?: string;
  /** Per-parameter errors of a 400 answer (`errors` in the body). */
  paramErrors?: Record<string, string>;
  /** undici/Node error code for transport failures (`UND_ERR_SOCKET`, `ECONNREFUSED`, ...). */
  code?: string;
  cause?: unknown;
}

/** Any failed PVE API call: HTTP error answer, unparsable answer or transport failure. */
export class PveApiError extends Error {
  readonly cluster: string;
  readonly method: string;
  readonly path: string;
  readonly status: number | undefined;
  readonly pveMessage: string | undefined;
  readonly paramErrors: Record<string, string> | undefined;
  readonly code: string | undefined;

  constructor(details: PveApiErrorDetails, message?: string) {
    super(message ?? describe(details), { cause: details.cause });
    this.name = new.target.name;
    this.cluster = details.cluster;
    this.method = details.method;
    this.path = details.path;
    this.status = details.status;
    this.pveMessage = details.pveMessage;
    this.paramErrors = details.paramErrors;
    this.code = details.code;
  }
}

/**
 * Wrong or expired credentials (HTTP 401 on login or after one re-login).
 * Names the cluster and the user or token id; never the secret.
 */
export class PveAuthError extends PveApiError {
  /** `user@realm` or `user@realm!token`. */
  readonly principal: string;
  constructor(details: PveApiErrorDetails & { principal: string }) {
    const why = details.pveMessage
      ? ` (${details.status ?? ''} ${details.pveMessage})`.replace('( ', '(')
      : '';
    super(
      details,
      `cluster "${details.cluster}": authentication failed for ${details.principal} on ${details.method} ${details.path}${why}`,
    );
    this.principal = details.principal;
  }
}

/** The server certificate is untrusted or does not match the pinned fingerprint; no request byte was sent. */
export class PveTlsError extends Error {
  readonly cluster: string;
  /** `PVE_TLS_FINGERPRINT_MISMATCH`, or Node's verification code (`SELF_SIGNED_CERT_IN_CHAIN`, ...). */
  readonly code: string;
  constructor(cluster: string, code: string, message: string, options?: { cause?: unknown }) {
    super(`cluster "${cluster}": ${message}`, options);
    this.name = new.target.name;
    this.cluster = cluster;
    this.code = code;
  }
}

function describe(d: PveApiErrorDetails): string {
  const what =
    d.status === undefined ? `no answer (${d.code ?? 'transport error'})` : `HTTP ${d.status}`;
  const text = d.pveMessage ? `: ${d.pveMessage}` : '';
  const params = d.paramErrors
    ? ` [${Object.entries(d.paramErrors)
        .map(([k, v]) => `${k}: ${v}`)
        .join('; ')}]`
    : '';
  return `cluster "${d.cluster}": ${d.method} ${d.path} failed, ${what}${text}${params}`;
}

/** Walks an error's `cause` chain and returns the first `code` string found. */
export function errorCode(err: unknown): string | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e && typeof e === 'object'; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string') return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}

/** Finds a PveTlsError anywhere in the cause chain (undici may wrap connector errors). */
export function findTlsError(err: unknown): PveTlsError | undefined {
  let e: unknown = err;
  for (let depth = 0; depth < 8 && e && typeof e === 'object'; depth++) {
    if (e instanceof PveTlsError) return e;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
