/**
 * One undici Agent per cluster: keep-alive, connect/headers/body timeouts, and
 * the TLS trust decision. PVE nodes use a certificate signed by a per-cluster
 * CA nobody else trusts, so besides the system CAs we support a custom CA
 * (caPem), a pinned SHA-256 fingerprint (what the PVE GUI shows) and an
 * explicit `insecure` opt-out.
 *
 * The pin is checked in the connector, after the TLS handshake and before
 * undici writes any request byte — on every new connection. TLS session
 * resumption is disabled when pinning (maxCachedSessions 0) because a resumed
 * session need not present the peer certificate again; a connection without a
 * certificate to check is refused.
 */
import type { TLSSocket } from 'node:tls';
import type { Logger } from '../log.js';
import { Agent, buildConnector, type Connector, type Dispatcher } from '../undiciParts.js';
import { PveTlsError } from './errors.js';

/** TLS trust options of a cluster. Default: the system CAs. */
export interface TlsOptions {
  /** SHA-256 of the server certificate (DER), colon-hex, any case. */
  fingerprint?: string;
  /** PEM of the CA that signed the node certificates (replaces the system CAs). */
  caPem?: string;
  /** Skip every check. Only when configured; warned about. */
  insecure?: boolean;
}

/** Connection timeouts in milliseconds. */
export interface Timeouts {
  connectMs?: number;
  headersMs?: number;
  bodyMs?: number;
}

/** What createTransport needs. */
export interface TransportOptions {
  cluster: string;
  tls?: TlsOptions;
  timeouts?: Timeouts;
  logger: Logger;
}

const FINGERPRINT_RE = /^([0-9a-f]{2}:){31}[0-9a-f]{2}$/i;

/** Normalises a SHA-256 fingerprint to upper-case colon-hex; throws on anything else. */
export function normalizeFingerprint(text: string): string {
  const trimmed = text.trim();
  if (!FINGERPRINT_RE.test(trimmed)) {
    throw new Error(
      'TLS fingerprint must be 32 colon-separated hex pairs (SHA-256, as the PVE GUI shows it)',
    );
  }
  return trimmed.toUpperCase();
}

/**
 * Node's verification errors that mean "certificate not trusted" (wrapped as
 * PveTlsError so the CLI reports a trust problem, exit 3, not a network one).
 */
const UNTRUSTED_CODES = new Set([
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'UNABLE_TO_GET_ISSUER_CERT',
  'UNABLE_TO_GET_ISSUER_CERT_LOCALLY',
  'SELF_SIGNED_CERT_IN_CHAIN',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'CERT_HAS_EXPIRED',
  'CERT_NOT_YET_VALID',
  'CERT_UNTRUSTED',
  'CERT_SIGNATURE_FAILURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
]);

/** Builds the cluster's Agent. Throws PveTlsError-free Errors only for bad options. */
export function createTransport(options: TransportOptions): Dispatcher {
  const { cluster, tls = {}, timeouts = {}, logger } = options;
  const pin = tls.fingerprint ? normalizeFingerprint(tls.fingerprint) : undefined;
  if (tls.insecure && !pin) {
    logger.warn(
      'TLS certificate verification is disabled for this cluster (tls.insecure); use a fingerprint or CA',
      {
        cluster,
      },
    );
  }
  const connector = buildConnector({
    // With a pin the fingerprint is the whole trust decision (like PVE nodes pinning each other),
    // so chain and host name checks are off; otherwise verify unless insecure.
    rejectUnauthorized: !pin && !tls.insecure,
    ...(tls.caPem && !pin ? { ca: tls.caPem } : {}),
    ...(pin ? { maxCachedSessions: 0 } : {}),
    timeout: timeouts.connectMs ?? 10_000,
  });

  const connect: Connector = (opts, callback) => {
    connector(opts, (err, socket) => {
      if (err) {
        const code = (err as { code?: unknown }).code;
        if (typeof code === 'string' && UNTRUSTED_CODES.has(code)) {
          callback(
            new PveTlsError(
              cluster,
              code,
              `server certificate of ${opts.hostname}:${opts.port} is not trusted (${code}); configure tls.fingerprint or tls.ca`,
              { cause: err },
            ),
            null,
          );
          return;
        }
        callback(err, null);
        return;
      }
      if (pin && socket) {
        const actual = peerFingerprint(socket as TLSSocket);
        if (actual !== pin) {
          socket.destroy();
          callback(
            new PveTlsError(
              cluster,
              'PVE_TLS_FINGERPRINT_MISMATCH',
              actual
                ? `certificate fingerprint of ${opts.hostname}:${opts.port} is ${actual}, expected ${pin}`
                : `${opts.hostname}:${opts.port} presented no certificate to check against the pinned fingerprint`,
            ),
            null,
          );
          return;
        }
      }
      callback(null, socket as NonNullable<typeof socket>);
    });
  };

  return new Agent({
    connect,
    headersTimeout: timeouts.headersMs ?? 60_000,
    bodyTimeout: timeouts.bodyMs ?? 60_000,
    // pveproxy drops idle connections after 5 s; closing ours first avoids sending on a dying socket.
    keepAliveTimeout: 3_000,
    keepAliveMaxTimeout: 4_000,
    connections: 4,
  });
}

/** SHA-256 fingerprint of the peer certificate (upper-case colon-hex), or undefined when none was presented. */
function peerFingerprint(socket: TLSSocket): string | undefined {
  if (typeof socket.getPeerCertificate !== 'function') return undefined;
  const cert = socket.getPeerCertificate();
  const fp = cert && typeof cert.fingerprint256 === 'string' ? cert.fingerprint256 : '';
  return fp ? fp.toUpperCase() : undefined;
}
