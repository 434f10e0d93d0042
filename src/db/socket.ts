import { Buffer } from 'node:buffer';
import { EventEmitter } from 'node:events';
import { connect } from 'cloudflare:sockets';

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

class WorkerSocket extends EventEmitter {
  readyState: 'open' | 'closed' = 'open';
  destroyed = false;
  private readonly raw: Socket;
  private readonly writer: WritableStreamDefaultWriter<Uint8Array>;

  constructor(raw: Socket) {
    super();
    this.raw = raw;
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
        this.emit('data', Buffer.from(value));
      }
      this.close();
    } catch (error) {
      this.fail(error);
    }
  }

  write(data: Uint8Array, callback?: () => void): boolean {
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

  destroy(): void {
    this.destroyed = true;
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
export async function openDatabaseSocket(host: string, port: number, timeoutSeconds: number): Promise<WorkerSocket> {
  const raw = connect({ hostname: host, port });
  let timer: ReturnType<typeof setTimeout> | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new DatabaseUnreachableError(`no connection within ${timeoutSeconds} s`)), timeoutSeconds * 1000);
  });
  try {
    await Promise.race([raw.opened, timeout]);
    return new WorkerSocket(raw);
  } catch (error) {
    raw.close().catch(() => {});
    throw error instanceof DatabaseUnreachableError ? error : new DatabaseUnreachableError('connection failed', { cause: error });
  } finally {
    clearTimeout(timer);
  }
}
