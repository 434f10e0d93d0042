import { spawn, type ChildProcess, type StdioOptions } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from './dev-database.ts';

export interface WranglerDevOptions {
  port: number;
  /** The database the HYPERDRIVE binding reaches. */
  databaseUrl: string;
  /** Worker variables that override wrangler.toml and .dev.vars (`--var`). */
  vars?: Record<string, string>;
  stdio?: StdioOptions;
}

/** `wrangler dev` on 127.0.0.1, offline and without telemetry, its Hyperdrive binding on `databaseUrl`. */
export function spawnWranglerDev(options: WranglerDevOptions): ChildProcess {
  const wrangler = path.join(
    path.dirname(createRequire(import.meta.url).resolve('wrangler/package.json')),
    'bin',
    'wrangler.js',
  );
  const vars = Object.entries(options.vars ?? {}).flatMap(([name, value]) => ['--var', `${name}:${value}`]);
  return spawn(process.execPath, [wrangler, 'dev', '--ip', '127.0.0.1', '--port', String(options.port), ...vars], {
    stdio: options.stdio ?? 'inherit',
    cwd: REPO_ROOT,
    env: {
      ...process.env,
      CLOUDFLARE_HYPERDRIVE_LOCAL_CONNECTION_STRING_HYPERDRIVE: options.databaseUrl,
      CLOUDFLARE_CF_FETCH_ENABLED: 'false',
      WRANGLER_SEND_METRICS: 'false',
    },
  });
}

/** Resolves once `url` answers at all; fails if `child` exits first or `timeoutMs` passes. */
export async function waitUntilServing(
  url: string,
  child: ChildProcess,
  timeoutMs = 60_000,
  output = () => '',
): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null)
      throw new Error(`wrangler dev exited (${child.exitCode}) before serving:\n${output()}`);
    try {
      await fetch(url, { signal: AbortSignal.timeout(2_000) });
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 250));
    }
  }
  throw new Error(`wrangler dev did not answer ${url} within ${timeoutMs / 1000} s:\n${output()}`);
}

/** Stops `child` and waits for it to exit (Ctrl-C first, as a developer would). */
export async function stopChild(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((resolve) => child.once('exit', resolve));
  child.kill('SIGINT');
  const timer = setTimeout(() => child.kill('SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}
