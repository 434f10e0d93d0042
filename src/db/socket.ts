import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { connect } from 'cloudflare:sockets';
import type { Traffic } from './traffic.ts';

/**
 * The socket postgres.js talks through on workerd, passed as its `socket` option.
 *
 * postgres 3.4.9 ships a `net.Socket` polyfill for Workers whose teardown leaks unhandled rejections:
 * its read loop emits 'error' after the connection has removed every listener, and `writer.ready` and
 * `close()` promises are left unobserved (porsager/postgres#1196, #1202). On workerd that is one
 * unhandled rejection per failed or closed connection, and under the vitest plugin a failed run. This
 * replacement observes every promise it creates and emits 'error' only while someone listens.
 */
export class DatabaseUnreachableError extends Error {
  override name = 'DatabaseUnreachableError';
  readonly code = 'DATABASE_UNREACHABLE';
}

/**
 * Counts what a connection sends, from the wire. Statements: each is one Parse ('P', extended protocol)
 * or Query ('Q', simple protocol) message. Round trips: postgres.js flushes what it has queued, then waits
 * for the answer, so each write that carries query traffic is one (statements queued together share one;
 * an upper bound, as a statement over 1 KiB is flushed at once, apart from any queued behind it). Writes of
 * password messages ('p', the start-up handshake, absent behind production Hyperdrive) are not counted.
 * postgres.js writes whole messages, so a write never splits one; the first write is the untyped start-up
 * message. (The driver's own `debug` hook would do, but it makes postgres.js capture a stack trace for
 * every query.)
 */
function countTraffic(data: Uint8Array): Traffic {
  let statements = 0;
  let roundTrips = 0;
  for (let offset = 0; offset + 5 <= data.length;) {
    const type = data[offset];
    if (type === 0x50 || type === 0x51) statements++;
    if (type !== 0x70) roundTrips = 1;
    offset +=
      1 + ((data[offset + 1]! << 24) | (data[offset + 2]! << 16) | (data[offset + 3]! << 8) | data[offset + 4]!);
  }
  return { statements, roundTrips };
}

export class WorkerSocket extends EventEmitter {
  readyState: 'open' | 'closed' = 'open';
  private readonly raw: Socket;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;
  private readonly onWrite: (traffic: Traffic) => void;
  private startupSent = false;

  constructor(raw: Socket, onWrite: (traffic: Traffic) => void) {
    super();
    this.raw = raw;
    this.onWrite = onWrite;
    this.writer = raw.writable.getWriter();
    raw.closed.then(
      () => this.close(),
      (error: unknown) => this.fail(error),
    );
    void this.pump(raw.readable.getReader());
  }

  private async pump(reader: ReadableStreamDefaultReader<Uint8Array>) {
    try {
      for (;;) {
        const { done, value } = await reader.read();
        if (done) break;
        // A view, not a copy: the stream hands over each chunk it reads.
        this.emit('data', Buffer.from(value.buffer, value.byteOffset, value.byteLength));
      }
      this.close();
    } catch (error) {
      this.fail(error);
    }
  }

  write(data: Uint8Array, callback?: () => void): boolean {
    if (this.startupSent) this.onWrite(countTraffic(data));
    this.startupSent = true;
    this.writer.write(data).then(
      () => callback?.(),
      (error: unknown) => this.fail(error),
    );
    return true;
  }

  end(data?: Uint8Array): void {
    if (data) this.write(data, () => this.shutdown());
    else this.shutdown();
  }

  /**
   * Drops every listener, leaving the socket open for the runtime to close. What workerd keeps alive
   * until a full garbage collection (this socket's pending read, its `closed` promise) then reaches this
   * object alone, not the client that listened (RequestClient.release in db/client.ts).
   */
  detach(): void {
    this.removeAllListeners();
  }

  destroy(): void {
    this.shutdown();
  }

  // Backpressure hooks postgres.js calls for COPY streams; web streams need no help.
  pause(): void {}
  resume(): void {}

  private shutdown() {
    this.raw.close().catch(() => {});
    this.close();
  }

  private fail(error: unknown) {
    if (this.readyState === 'closed') return;
    if (this.listenerCount('error') > 0) this.emit('error', error);
    this.close();
  }

  private close() {
    if (this.readyState === 'closed') return;
    this.readyState = 'closed';
    this.emit('close');
  }
}

/** Opens a TCP connection, failing with DatabaseUnreachableError if it is refused or not open in time. */
export async function openDatabaseSocket(
  host: string,
  port: number,
  timeoutSeconds: number,
  onWrite: (traffic: Traffic) => void = () => {},
): Promise<WorkerSocket> {
  const raw = connect({ hostname: host, port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(
      () => reject(new DatabaseUnreachableError(`no connection within ${timeoutSeconds} s`)),
      timeoutSeconds * 1000,
    );
  });
  try {
    await Promise.race([raw.opened, timeout]);
    return new WorkerSocket(raw, onWrite);
  } catch (error) {
    raw.close().catch(() => {});
    throw error instanceof DatabaseUnreachableError
      ? error
      : new DatabaseUnreachableError('connection failed', { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
