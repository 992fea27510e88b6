/**
 * A loopback TCP relay in front of an FTP server's control port, for tests
 * that need to see or disturb what a client says: it hands every command line
 * to `onCommand` before forwarding it (which may hold it back, e.g. to kill the
 * client at a chosen write), and `silence()` turns it into a NAS that stops
 * answering: connections stay open, nothing is forwarded either way, and new
 * connections are accepted and then ignored. Data connections (EPSV/PASV) go
 * to the server directly, as its replies name its own ports.
 */
import { connect, createServer, type Server, type Socket } from 'node:net';

/** What to do with one command line: forward it, or hold it back (never sent). */
export type CommandVerdict = 'forward' | 'hold';

export interface FtpRelay {
  port: number;
  /** Command lines seen so far (verb and arguments, without CRLF), in order. */
  readonly commands: string[];
  /** From now on nothing is forwarded in either direction; new connections hang. */
  silence(): void;
  close(): Promise<void>;
}

/** FTP commands that change the server's tree. */
export const FTP_WRITE_VERBS = new Set(['STOR', 'APPE', 'STOU', 'DELE', 'RNTO', 'MKD', 'RMD']);

export async function startFtpRelay(
  target: { host: string; port: number },
  onCommand: (line: string) => CommandVerdict = () => 'forward',
  o: { delayMs?: number } = {},
): Promise<FtpRelay> {
  // `delayMs` holds every chunk back that long in each direction: a NAS on a LAN or a slow
  // one instead of loopback, where a reply can come back within microseconds. Timers of equal
  // delay fire in order, so the byte order is kept.
  const delay = o.delayMs ?? 0;
  const later = (write: () => void) => (delay > 0 ? setTimeout(write, delay) : write());
  const commands: string[] = [];
  const sockets = new Set<Socket>();
  let silent = false;
  const server: Server = createServer((client) => {
    sockets.add(client);
    client.on('error', () => client.destroy());
    if (silent) return; // accepted, never greeted
    const upstream = connect(target.port, target.host);
    sockets.add(upstream);
    // A relay must not add latency: with Nagle on, a reply or command written while an
    // earlier small one is unacknowledged waits for the peer's delayed ACK (40 ms on Linux).
    client.setNoDelay(true);
    upstream.setNoDelay(true);
    let pending = '';
    client.on('data', (chunk) => {
      if (silent) return;
      pending += chunk.toString('latin1');
      const lines = pending.split('\r\n');
      pending = lines.pop() ?? '';
      for (const line of lines) {
        commands.push(line);
        if (onCommand(line) === 'hold') return;
        later(() => upstream.write(`${line}\r\n`, 'latin1'));
      }
    });
    upstream.on('data', (chunk) => {
      if (!silent) later(() => client.write(chunk));
    });
    const end = () => {
      client.destroy();
      upstream.destroy();
    };
    client.on('close', end);
    upstream.on('close', end).on('error', end);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('relay has no port');
  return {
    port: address.port,
    commands,
    silence: () => {
      silent = true;
    },
    close: async () => {
      for (const s of sockets) s.destroy();
      await new Promise<void>((r) => server.close(() => r()));
    },
  };
}

/** The verb of a command line, upper-case. */
export const verbOf = (line: string): string => (line.split(' ')[0] ?? '').toUpperCase();
