/**
 * TLS material for the simulator: a per-run CA and a server certificate it
 * signs, like a PVE cluster's pve-root-ca.pem and pve-ssl.pem.
 */
import { X509Certificate } from 'node:crypto';

export interface SimCerts {
  caCertPem: string;
  certPem: string;
  keyPem: string;
  /** SHA-256 of the server certificate DER, colon-hex upper-case (as the PVE GUI shows it). */
  fingerprint: string;
}

/** Generates a CA and a server cert for 127.0.0.1/localhost signed by it. */
export async function generateCerts(): Promise<SimCerts> {
  // selfsigned is a development dependency (only the demo and tests run the simulator):
  // imported here, not at load, so a production install never needs it.
  const { generate } = await import('selfsigned');
  const notBeforeDate = new Date(Date.now() - 60_000);
  const notAfterDate = new Date(Date.now() + 3 * 24 * 3600_000);
  // EC keys: RSA generation costs ~1 s per key on a busy 2-core box.
  const ca = await generate(
    [{ name: 'commonName', value: 'Proxmox Virtual Environment (sim CA)' }],
    {
      keyType: 'ec',
      algorithm: 'sha256',
      notBeforeDate,
      notAfterDate,
      extensions: [
        { name: 'basicConstraints', cA: true, critical: true },
        { name: 'keyUsage', keyCertSign: true, cRLSign: true, critical: true },
      ],
    },
  );
  const server = await generate([{ name: 'commonName', value: 'localhost' }], {
    keyType: 'ec',
    algorithm: 'sha256',
    notBeforeDate,
    notAfterDate,
    ca: { key: ca.private, cert: ca.cert },
    extensions: [
      { name: 'basicConstraints', cA: false },
      { name: 'keyUsage', digitalSignature: true, keyEncipherment: true },
      { name: 'extKeyUsage', serverAuth: true },
      {
        name: 'subjectAltName',
        altNames: [
          { type: 7, ip: '127.0.0.1' },
          { type: 2, value: 'localhost' },
        ],
      },
    ],
  });
  return {
    caCertPem: ca.cert,
    certPem: server.cert,
    keyPem: server.private,
    fingerprint: new X509Certificate(server.cert).fingerprint256.toUpperCase(),
  };
}
