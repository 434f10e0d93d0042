import { promises as fs } from 'node:fs';

/**
 * CPU profiling of the worker through workerd's inspector (Chrome DevTools protocol), for finding out
 * where a scenario's time goes: `npm run bench -- --only get --profile`. Writes a .cpuprofile that
 * DevTools opens, and returns the functions with the most self time.
 */
interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number };
  hitCount: number;
}

export async function startProfiling(inspectorPort: number) {
  const targets = (await (await fetch(`http://127.0.0.1:${inspectorPort}/json/list`)).json()) as {
    webSocketDebuggerUrl: string;
    title?: string;
  }[];
  const target = targets.find((t) => t.title?.includes('api')) ?? targets[0];
  if (!target) throw new Error('no inspector target');
  const socket = new WebSocket(target.webSocketDebuggerUrl);
  await new Promise((resolve, reject) => {
    socket.addEventListener('open', resolve);
    socket.addEventListener('error', reject);
  });
  let id = 0;
  const pending = new Map<number, (result: unknown) => void>();
  socket.addEventListener('message', (event: MessageEvent) => {
    const message = JSON.parse(String(event.data)) as { id?: number; result?: unknown };
    if (message.id !== undefined) pending.get(message.id)?.(message.result);
  });
  const send = (method: string, params: object = {}) =>
    // eslint-disable-next-line @typescript-eslint/no-explicit-any -- CDP results are untyped
    new Promise<any>((resolve) => {
      pending.set(++id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  await send('Profiler.enable');
  await send('Profiler.setSamplingInterval', { interval: 100 });
  await send('Profiler.start');
  return {
    async stop(file: string) {
      const { profile } = (await send('Profiler.stop')) as { profile: { nodes: ProfileNode[] } };
      socket.close();
      await fs.writeFile(file, JSON.stringify(profile));
      const byFunction = new Map<string, number>();
      let total = 0;
      for (const node of profile.nodes) {
        const { functionName, url, lineNumber } = node.callFrame;
        const key = `${functionName || '(anonymous)'} ${url.split('/').pop()}:${lineNumber}`;
        byFunction.set(key, (byFunction.get(key) ?? 0) + node.hitCount);
        total += node.hitCount;
      }
      return [...byFunction.entries()]
        .sort((a, b) => b[1] - a[1])
        .slice(0, 25)
        .map(([name, hits]) => `${((hits / total) * 100).toFixed(1).padStart(5)}%  ${name}`);
    },
  };
}
