import autocannon from 'autocannon';
import http from 'node:http';

export interface LoadRequest {
  method?: string;
  path: string | (() => string);
  headers?: Record<string, string>;
  body?: string | (() => string);
}

/** A request's path or body: fixed, or made afresh for each request. */
export const resolve = <T>(value: T | (() => T)): T => (typeof value === 'function' ? (value as () => T)() : value);

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
  p99_9: number;
  requests: number;
  errors: number;
  non2xx: number;
}

/** Drives `connections` concurrent clients at one request shape for `seconds`, after a warm-up. */
export async function runLoad(
  baseUrl: string,
  request: LoadRequest,
  options: { connections: number; seconds: number; warmupSeconds: number; onMeasureStart?: () => void },
): Promise<LoadResult> {
  const once = (duration: number) =>
    autocannon({
      url: baseUrl,
      connections: options.connections,
      pipelining: 1,
      duration,
      timeout: 30,
      requests: [
        {
          method: (request.method ?? 'GET') as autocannon.Request['method'],
          headers: request.headers,
          setupRequest: (req: autocannon.Request) => ({
            ...req,
            path: resolve(request.path),
            ...(request.body === undefined ? {} : { body: resolve(request.body) }),
          }),
        },
      ],
    });
  if (options.warmupSeconds > 0) await once(options.warmupSeconds);
  options.onMeasureStart?.();
  const result = await once(options.seconds);
  return {
    // The window as it ran (autocannon stops on its own timer), not as asked.
    requestsPerSecond: result.requests.total / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
    p99_9: result.latency.p99_9,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}

export interface FixedRateResult {
  /** The rate asked for and the rate the responses came back at. */
  targetRate: number;
  achievedRate: number;
  p50: number;
  p99: number;
  p99_9: number;
  max: number;
  requests: number;
  errors: number;
  non2xx: number;
}

const percentile = (sorted: number[], p: number) =>
  sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0;
const tenths = (value: number) => Math.round(value * 10) / 10;

/**
 * An open-loop run: requests start on a fixed schedule (`rate` per second) whether or not earlier ones have
 * answered, each on a pooled keep-alive connection, and each latency is counted from the moment its request
 * was due. A slow response therefore cannot delay the requests behind it and hide its cost (coordinated
 * omission), so the percentiles are what clients arriving at that rate would see. autocannon's own rate
 * mode cannot do this: its correction assumes a 1 ms interval whatever the rate.
 */
export async function runFixedRate(
  baseUrl: string,
  request: LoadRequest,
  options: { rate: number; seconds: number },
): Promise<FixedRateResult> {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 256 });
  const latencies: number[] = [];
  let errors = 0;
  let non2xx = 0;
  // Counted from when a request was due, or from when it left if it left early (timers wake 1 ms late, so
  // a request due within the next millisecond is sent at once).
  const send = (due: number) =>
    new Promise<void>((done) => {
      const from = Math.max(due, performance.now());
      const body = request.body === undefined ? undefined : resolve(request.body);
      const req = http.request(
        `${baseUrl}${resolve(request.path)}`,
        { method: request.method ?? 'GET', headers: request.headers, agent },
        (res) => {
          res.resume();
          res.on('end', () => {
            latencies.push(performance.now() - from);
            if (res.statusCode! < 200 || res.statusCode! >= 300) non2xx++;
            done();
          });
        },
      );
      req.on('error', () => {
        errors++;
        done();
      });
      req.end(body);
    });
  const interval = 1000 / options.rate;
  const total = Math.round(options.rate * options.seconds);
  const started = performance.now();
  const inFlight: Promise<void>[] = [];
  for (let i = 0; i < total; i++) {
    const due = started + i * interval;
    const wait = due - performance.now();
    if (wait > 1) await new Promise((resume) => setTimeout(resume, wait));
    inFlight.push(send(due));
  }
  await Promise.all(inFlight);
  const elapsed = (performance.now() - started) / 1000;
  agent.destroy();
  const sorted = latencies.sort((a, b) => a - b);
  return {
    targetRate: options.rate,
    achievedRate: tenths(latencies.length / elapsed),
    p50: tenths(percentile(sorted, 50)),
    p99: tenths(percentile(sorted, 99)),
    p99_9: tenths(percentile(sorted, 99.9)),
    max: tenths(sorted.at(-1) ?? 0),
    requests: latencies.length,
    errors,
    non2xx,
  };
}
