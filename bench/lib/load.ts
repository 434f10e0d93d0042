import autocannon from 'autocannon';

export interface LoadRequest {
  method?: string;
  path: string | (() => string);
  headers?: Record<string, string>;
  body?: string | (() => string);
}

export interface LoadResult {
  requestsPerSecond: number;
  p50: number;
  p99: number;
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
            path: typeof request.path === 'function' ? request.path() : request.path,
            ...(request.body === undefined ? {} : { body: typeof request.body === 'function' ? request.body() : request.body }),
          }),
        },
      ],
    });
  if (options.warmupSeconds > 0) await once(options.warmupSeconds);
  options.onMeasureStart?.();
  const result = await once(options.seconds);
  return {
    requestsPerSecond: result.requests.total / options.seconds,
    p50: result.latency.p50,
    p99: result.latency.p99,
    requests: result.requests.total,
    errors: result.errors + result.timeouts,
    non2xx: result.non2xx,
  };
}
