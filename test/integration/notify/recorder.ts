/** A local HTTP target on 127.0.0.1 that records every request and answers as told. */
import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface Recorded {
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: string;
}

/** `ok`: 200; `fail`: 500 every time; `hang`: reads the request and never answers. */
export type Behaviour = 'ok' | 'fail' | 'hang';

export interface Recorder {
  base: string;
  requests: Recorded[];
  close(): Promise<void>;
}

export async function startRecorder(behaviour: Behaviour): Promise<Recorder> {
  const requests: Recorded[] = [];
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      requests.push({
        method: req.method ?? '',
        path: req.url ?? '',
        headers: req.headers,
        body: Buffer.concat(chunks).toString('utf8'),
      });
      if (behaviour === 'hang') return;
      res.statusCode = behaviour === 'ok' ? 200 : 500;
      res.end(behaviour === 'ok' ? 'OK' : 'broken');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    base: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A port nothing listens on (bound, then released). */
export async function closedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/** A logger that keeps every line as text, with no redaction of its own. */
export function captureLogger() {
  const lines: string[] = [];
  const log =
    (level: string) =>
    (message: string, meta?: Record<string, unknown>): void => {
      lines.push(`${level} ${message}${meta ? ` ${JSON.stringify(meta)}` : ''}`);
    };
  return { lines, logger: { info: log('info'), warn: log('warn'), debug: log('debug') } };
}
