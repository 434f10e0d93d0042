import net from 'node:net';

/**
 * A session-mode connection pooler for the benchmark, standing in for Hyperdrive's pool.
 *
 * Production Hyperdrive hands each worker invocation an already-open, authenticated connection. Locally
 * every request would otherwise start a new PostgreSQL backend, which on these machines costs ~12 ms
 * and serialises at ~65 connections/s, so the benchmark would measure backend start-up and nothing
 * else. This pooler keeps warm server connections, answers each client's start-up itself, lends it one
 * server connection for the client's lifetime, and returns it with `DISCARD ALL` afterwards, as
 * PgBouncer's session mode does. Trust authentication and one database/user only: benchmark use.
 */
export interface Pooler {
  port: number;
  pid?: number;
  /**
   * The edge latency model: from now on every query round trip waits `ms` more (the client's messages
   * reach PostgreSQL that much later), as each one crosses from the edge to the database in production.
   * Connection set-up is answered by the pooler at once, as Hyperdrive answers it near the worker.
   */
  setRoundTripDelay(ms: number): Promise<void>;
  close(): Promise<void>;
}

interface Upstream {
  host: string;
  port: number;
  user: string;
  database: string;
}

const PROTOCOL_3 = 196_608;
const SSL_REQUEST = 80_877_103;
const GSS_REQUEST = 80_877_104;

/** Splits a stream of typed PostgreSQL messages (1-byte type, int32 length including itself). */
class MessageReader {
  private buffer = Buffer.alloc(0);
  push(chunk: Buffer, onMessage: (type: string, message: Buffer) => void) {
    this.buffer = this.buffer.length ? Buffer.concat([this.buffer, chunk]) : chunk;
    while (this.buffer.length >= 5) {
      const length = this.buffer.readInt32BE(1);
      if (this.buffer.length < length + 1) break;
      const message = this.buffer.subarray(0, length + 1);
      this.buffer = this.buffer.subarray(length + 1);
      onMessage(String.fromCharCode(message[0]!), message);
    }
  }
}

/**
 * Finds the message types in a stream of typed messages without copying or reassembling it, for the hot
 * path, which forwards every chunk as it arrives and only needs to notice ReadyForQuery and Terminate.
 */
class MessageScanner {
  /** Bytes of the current message still to come; 0 between messages. */
  remaining = 0;
  private header: number[] = [];

  /** Calls `onMessage` with the type of every message whose header completes in `chunk`, and where it starts. */
  scan(chunk: Buffer, onMessage: (type: number, start: number) => void) {
    for (let position = 0; position < chunk.length;) {
      if (this.remaining > 0) {
        const skipped = Math.min(this.remaining, chunk.length - position);
        position += skipped;
        this.remaining -= skipped;
        continue;
      }
      const start = position - this.header.length;
      while (this.header.length < 5 && position < chunk.length) this.header.push(chunk[position++]!);
      if (this.header.length < 5) return;
      const [type, a, b, c, d] = this.header as [number, number, number, number, number];
      this.header = [];
      this.remaining = ((a << 24) | (b << 16) | (c << 8) | d) - 4;
      onMessage(type, Math.max(start, 0));
    }
  }
}

const READY_FOR_QUERY = 0x5a;
const TERMINATE = 0x58;

const query = (text: string) => {
  const body = Buffer.from(`${text}\0`);
  const header = Buffer.alloc(5);
  header.write('Q', 0);
  header.writeInt32BE(body.length + 4, 1);
  return Buffer.concat([header, body]);
};

interface ServerConnection {
  socket: net.Socket;
  /** ParameterStatus and BackendKeyData messages, replayed to every client that borrows it. */
  greeting: Buffer;
}

function openServerConnection(upstream: Upstream): Promise<ServerConnection> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(upstream.port, upstream.host);
    socket.setNoDelay(true);
    const reader = new MessageReader();
    const greeting: Buffer[] = [];
    socket.once('error', reject);
    socket.on('connect', () => {
      const params = Buffer.from(`user\0${upstream.user}\0database\0${upstream.database}\0\0`);
      const startup = Buffer.alloc(8);
      startup.writeInt32BE(params.length + 8, 0);
      startup.writeInt32BE(PROTOCOL_3, 4);
      socket.write(Buffer.concat([startup, params]));
    });
    const onData = (chunk: Buffer) =>
      reader.push(chunk, (type, message) => {
        if (type === 'E') reject(new Error(`server refused the pooler: ${message.subarray(5).toString()}`));
        else if (type === 'R' && message.readInt32BE(5) !== 0)
          reject(new Error('the pooler needs trust authentication'));
        else if (type === 'S' || type === 'K') greeting.push(message);
        else if (type === 'Z') {
          socket.off('data', onData);
          socket.off('error', reject);
          resolve({ socket, greeting: Buffer.concat(greeting) });
        }
      });
    socket.on('data', onData);
  });
}

export async function startPooler(upstream: Upstream, size: number): Promise<Pooler> {
  let roundTripDelay = 0;
  const idle: ServerConnection[] = [];
  const waiting: ((connection: ServerConnection) => void)[] = [];
  const clients = new Set<net.Socket>();
  const all = new Set<ServerConnection>();

  const release = (connection: ServerConnection) => {
    const next = waiting.shift();
    if (next) next(connection);
    else idle.push(connection);
  };
  const replace = (connection: ServerConnection) => {
    all.delete(connection);
    connection.socket.destroy();
    openServerConnection(upstream).then(
      (fresh) => {
        all.add(fresh);
        release(fresh);
      },
      () => {},
    );
  };
  const acquire = () =>
    new Promise<ServerConnection>((resolve) => {
      const connection = idle.pop();
      if (connection) resolve(connection);
      else waiting.push(resolve);
    });

  for (let i = 0; i < size; i++) {
    const connection = await openServerConnection(upstream);
    all.add(connection);
    idle.push(connection);
  }

  const server = net.createServer((client) => {
    clients.add(client);
    client.setNoDelay(true);
    client.on('error', () => client.destroy());
    let started = false;
    let pending = Buffer.alloc(0);

    // Start-up is untyped (int32 length, int32 code): answer SSL/GSS requests with 'N', then greet.
    const onStartup = async (chunk: Buffer) => {
      pending = Buffer.concat([pending, chunk]);
      while (!started && pending.length >= 8) {
        const length = pending.readInt32BE(0);
        if (pending.length < length) return;
        const code = pending.readInt32BE(4);
        pending = pending.subarray(length);
        if (code === SSL_REQUEST || code === GSS_REQUEST) {
          client.write('N');
          continue;
        }
        if (code !== PROTOCOL_3) return client.destroy();
        started = true;
        client.off('data', onStartup);
        client.pause();
        await lend(client, pending);
      }
    };
    client.on('data', onStartup);
  });

  async function lend(client: net.Socket, rest: Buffer) {
    const connection = await acquire();
    if (client.destroyed) return release(connection);
    const { socket } = connection;
    let serverIdle = true;
    // Client chunks waiting out the round-trip delay; the connection is not reusable while any is.
    let delayed = 0;
    const fromServer = new MessageScanner();
    const fromClient = new MessageScanner();
    // Chunks are forwarded whole, in one write each; only message types are looked at.
    const onServerData = (chunk: Buffer) => {
      fromServer.scan(chunk, (type) => (serverIdle = type === READY_FOR_QUERY));
      client.write(chunk);
    };
    const onClientData = (chunk: Buffer) => {
      let terminateAt = -1;
      fromClient.scan(chunk, (type, start) => {
        if (type === TERMINATE && terminateAt < 0) terminateAt = start;
      });
      // Terminate ends the session, not the server connection.
      const forward = terminateAt < 0 ? chunk : chunk.subarray(0, terminateAt);
      if (forward.length > 0) {
        serverIdle = false;
        if (roundTripDelay === 0) socket.write(forward);
        else {
          // Timers of one delay fire in order, so the stream stays in order; pipelined chunks overlap.
          delayed++;
          setTimeout(() => {
            delayed--;
            if (!socket.destroyed) socket.write(forward);
          }, roundTripDelay);
        }
      }
      if (terminateAt >= 0) client.end();
    };
    const giveBack = () => {
      socket.off('data', onServerData);
      socket.off('close', onServerClose);
      if (!serverIdle || delayed > 0 || fromServer.remaining > 0) return replace(connection); // mid-query: its state is unknown, do not reuse
      const reset = new MessageReader();
      const onReset = (chunk: Buffer) =>
        reset.push(chunk, (type) => {
          if (type !== 'Z') return;
          socket.off('data', onReset);
          release(connection);
        });
      socket.on('data', onReset);
      socket.write(query('DISCARD ALL'));
    };
    const onServerClose = () => {
      all.delete(connection);
      client.destroy();
    };
    socket.on('data', onServerData);
    socket.on('close', onServerClose);
    client.on('data', onClientData);
    client.once('close', () => {
      clients.delete(client);
      if (all.has(connection)) giveBack();
    });
    const auth = Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 0]); // AuthenticationOk
    client.write(Buffer.concat([auth, connection.greeting, Buffer.from([0x5a, 0, 0, 0, 5, 0x49])])); // ... ReadyForQuery (idle)
    if (rest.length) onClientData(rest);
    client.resume();
  }

  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    async setRoundTripDelay(ms: number) {
      roundTripDelay = ms;
    },
    async close() {
      for (const client of clients) client.destroy();
      for (const connection of all) connection.socket.destroy();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}

/** Starts the pooler as a child process; resolves with its port and a way to stop it. */
export async function spawnPooler(upstream: Upstream, size: number): Promise<Pooler> {
  const { spawn } = await import('node:child_process');
  const script = new URL('./pooler-process.ts', import.meta.url).pathname;
  const child = spawn(
    process.execPath,
    [script, upstream.host, String(upstream.port), upstream.user, upstream.database, String(size)],
    {
      stdio: ['pipe', 'pipe', 'inherit'],
    },
  );
  // The child answers each line on stdin with one line on stdout: first its port, then an acknowledgement.
  const lines: ((line: string) => void)[] = [];
  let buffered = '';
  child.stdout.on('data', (chunk: Buffer) => {
    buffered += chunk.toString();
    for (let end = buffered.indexOf('\n'); end >= 0; end = buffered.indexOf('\n')) {
      lines.shift()?.(buffered.slice(0, end));
      buffered = buffered.slice(end + 1);
    }
  });
  const nextLine = () => new Promise<string>((resolve) => lines.push(resolve));
  const port = await new Promise<number>((resolve, reject) => {
    void nextLine().then((line) => resolve(Number(line.trim())));
    child.once('exit', (code) => reject(new Error(`pooler exited (${code})`)));
  });
  return {
    port,
    pid: child.pid,
    async setRoundTripDelay(ms: number) {
      const acknowledged = nextLine();
      child.stdin.write(`delay ${ms}\n`);
      await acknowledged;
    },
    close: () =>
      new Promise((resolve) => {
        child.once('exit', () => resolve());
        child.stdin.end();
      }),
  };
}
