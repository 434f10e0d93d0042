import net from 'node:net';
import http from 'node:http';

/**
 * A TCP proxy in front of the test database whose state the tests switch over HTTP, to simulate an
 * outage from inside workerd: `down` closes the listener and every open connection (connections are
 * refused, as with a stopped server), `hang` accepts connections but never answers (a stuck server),
 * `up` restores normal service on the same port.
 */
export interface DatabaseProxy {
  port: number;
  controlUrl: string;
  close(): Promise<void>;
}

type Mode = 'up' | 'down' | 'hang';

export async function startDatabaseProxy(targetPort: number): Promise<DatabaseProxy> {
  const sockets = new Set<net.Socket>();
  let mode: Mode = 'up';

  const proxy = net.createServer((client) => {
    sockets.add(client);
    client.on('close', () => sockets.delete(client));
    client.on('error', () => client.destroy());
    if (mode === 'hang') return;
    const upstream = net.connect(targetPort, '127.0.0.1');
    sockets.add(upstream);
    upstream.on('close', () => sockets.delete(upstream));
    upstream.on('error', () => client.destroy());
    client.on('close', () => upstream.destroy());
    upstream.on('close', () => client.destroy());
    client.pipe(upstream).pipe(client);
  });
  const listen = (port: number) =>
    new Promise<void>((resolve, reject) => {
      proxy.once('error', reject);
      proxy.listen(port, '127.0.0.1', () => {
        proxy.off('error', reject);
        resolve();
      });
    });
  await listen(0);
  const port = (proxy.address() as net.AddressInfo).port;

  const setMode = async (next: Mode) => {
    if (next === 'down' && mode !== 'down') {
      await new Promise<void>((resolve) => {
        proxy.close(() => resolve());
        for (const socket of sockets) socket.destroy();
      });
    }
    if (next !== 'down' && mode === 'down') await listen(port);
    if (next === 'hang') for (const socket of sockets) socket.destroy();
    mode = next;
  };

  const control = http.createServer((request, response) => {
    const next = request.url?.slice(1) as Mode;
    if (request.method !== 'POST' || !['up', 'down', 'hang'].includes(next)) {
      response.writeHead(404).end();
      return;
    }
    setMode(next).then(
      () => response.writeHead(204).end(),
      (error: Error) => response.writeHead(500).end(error.message),
    );
  });
  await new Promise<void>((resolve) => control.listen(0, '127.0.0.1', resolve));
  const controlUrl = `http://127.0.0.1:${(control.address() as net.AddressInfo).port}`;

  return {
    port,
    controlUrl,
    async close() {
      for (const socket of sockets) socket.destroy();
      await Promise.all([
        new Promise((resolve) => (mode === 'down' ? resolve(undefined) : proxy.close(resolve))),
        new Promise((resolve) => control.close(resolve)),
      ]);
    },
  };
}
