/**
 * A minimal FTP control-channel peer on 127.0.0.1 that records the USER and
 * PASS a client sends and refuses every login. It checks exactly what curl
 * made of the netrc file, byte for byte, which a real server cannot show
 * (ftp-srv even mangles a password with a double quote in it).
 */
import { createServer, type Socket } from 'node:net';

export interface LoginRecorder {
  host: string;
  port: number;
  /** Every USER/PASS pair received, in order. */
  logins: { user: string; pass: string }[];
  close(): Promise<void>;
}

/** `hang`: never answer PASS, like a NAS that stalls mid-login. */
export async function startLoginRecorder(o: { hang?: boolean } = {}): Promise<LoginRecorder> {
  const logins: { user: string; pass: string }[] = [];
  const sockets = new Set<Socket>();
  const server = createServer((socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
    socket.on('error', () => undefined);
    let buffer = Buffer.alloc(0);
    let user = '';
    socket.write('220 recorder ready\r\n');
    socket.on('data', (chunk: Buffer) => {
      buffer = Buffer.concat([buffer, chunk]);
      for (let end = buffer.indexOf('\r\n'); end >= 0; end = buffer.indexOf('\r\n')) {
        const line = buffer.subarray(0, end).toString('utf8');
        buffer = buffer.subarray(end + 2);
        const space = line.indexOf(' ');
        const verb = (space < 0 ? line : line.slice(0, space)).toUpperCase();
        const arg = space < 0 ? '' : line.slice(space + 1);
        if (verb === 'USER') {
          user = arg;
          socket.write('331 password please\r\n');
        } else if (verb === 'PASS') {
          logins.push({ user, pass: arg });
          if (!o.hang) socket.write('530 Login incorrect\r\n');
        } else if (verb === 'QUIT') {
          socket.end('221 bye\r\n');
        } else {
          socket.write('530 not logged in\r\n');
        }
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  return {
    host: '127.0.0.1',
    port: address.port,
    logins,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sockets) s.destroy();
        server.close(() => resolve());
      }),
  };
}
