import { spawn, type ChildProcess } from 'node:child_process';
import { promises as fs } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { gzipSync } from 'node:zlib';

const require = createRequire(import.meta.url);

export interface Bundle {
  file: string;
  rawBytes: number;
  gzipBytes: number;
}

/** Builds a worker exactly as `wrangler deploy` would (minified, bundled), without uploading it. */
export async function buildBundle(
  repoRoot: string,
  outDir: string,
  entry?: string,
  options: { minify?: boolean } = {},
): Promise<Bundle> {
  const wrangler = path.join(path.dirname(require.resolve('wrangler/package.json')), 'bin', 'wrangler.js');
  await fs.rm(outDir, { recursive: true, force: true });
  await run(
    process.execPath,
    [
      wrangler,
      'deploy',
      '--dry-run',
      '--outdir',
      outDir,
      ...(options.minify === false ? ['--minify=false'] : []),
      ...(entry ? [entry] : []),
    ],
    repoRoot,
  );
  // wrangler names the output after the entry file.
  const file = path.join(outDir, `${path.basename(entry ?? 'index.ts').replace(/\.ts$/, '')}.js`);
  const code = await fs.readFile(file);
  return { file, rawBytes: code.byteLength, gzipBytes: gzipSync(code, { level: 9 }).byteLength };
}

function run(command: string, args: string[], cwd: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, {
      cwd,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, WRANGLER_SEND_METRICS: 'false', CLOUDFLARE_CF_FETCH_ENABLED: 'false' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk));
    child.on('close', (code) => (code === 0 ? resolve() : reject(new Error(`${args.join(' ')} failed:\n${output}`))));
  });
}

export interface WorkerSpec {
  name: string;
  bundle: string;
  port: number;
  vars: Record<string, string>;
}

export interface WorkerdOptions {
  workers: WorkerSpec[];
  database: { host: string; port: number; name: string; user: string; password: string };
  compatibilityDate: string;
  configDir: string;
  /** Opens workerd's DevTools inspector on this port (for --profile). */
  inspectorPort?: number;
}

const capnpString = (value: string) => JSON.stringify(value);

/**
 * Headers that make a request look to the worker as Cloudflare's edge forwards it: workerd parses the
 * `cf-blob` header (the socket's `cfBlobHeader`) into `request.cf`, and with it the API trusts
 * `CF-Connecting-IP` (src/lib/client-address.ts). Without them the production configuration refuses the
 * routes limited per address.
 */
export const EDGE_HEADERS = {
  'cf-blob': JSON.stringify({ colo: 'LCL', country: 'XX' }),
  'CF-Connecting-IP': '127.0.0.1',
};

/**
 * Runs bundles on plain `workerd serve`, the runtime production uses, with no wrangler proxy in front.
 * Each worker's HYPERDRIVE binding reaches the database through an external TCP service, as the
 * Hyperdrive binding does in production.
 */
export async function startWorkerd(options: WorkerdOptions): Promise<{ stop(): Promise<void> }> {
  const { database } = options;
  // capnp resolves `embed` relative to the config file, so each bundle is copied beside it.
  for (const worker of options.workers)
    await fs.copyFile(worker.bundle, path.join(options.configDir, `${worker.name}.js`));
  const workers = options.workers.map(
    (worker) => `const ${worker.name}Worker :Workerd.Worker = (
  modules = [(name = "index.js", esModule = embed ${capnpString(`${worker.name}.js`)})],
  compatibilityDate = ${capnpString(options.compatibilityDate)},
  compatibilityFlags = ["nodejs_compat"],
  bindings = [
    (name = "HYPERDRIVE", hyperdrive = (designator = "database", database = ${capnpString(database.name)}, user = ${capnpString(database.user)}, password = ${capnpString(database.password)}, scheme = "postgresql")),
${Object.entries(worker.vars)
  .map(([name, value]) => `    (name = ${capnpString(name)}, text = ${capnpString(value)}),`)
  .join('\n')}
  ],
);`,
  );
  const config = `using Workerd = import "/workerd/workerd.capnp";

const config :Workerd.Config = (
  services = [
${options.workers.map((w) => `    (name = ${capnpString(w.name)}, worker = .${w.name}Worker),`).join('\n')}
    (name = "database", external = (address = ${capnpString(`${database.host}:${database.port}`)}, tcp = ())),
  ],
  sockets = [
${options.workers.map((w) => `    (name = ${capnpString(w.name)}, address = ${capnpString(`127.0.0.1:${w.port}`)}, http = (cfBlobHeader = "cf-blob"), service = ${capnpString(w.name)}),`).join('\n')}
  ],
);

${workers.join('\n\n')}
`;
  const configFile = path.join(options.configDir, 'workerd.capnp');
  await fs.writeFile(configFile, config);
  const binary = (require('workerd') as { default: string }).default;
  const inspector = options.inspectorPort ? [`--inspector-addr=127.0.0.1:${options.inspectorPort}`] : [];
  const child = spawn(binary, ['serve', configFile, '--verbose', ...inspector], { stdio: ['ignore', 'pipe', 'pipe'] });
  // The request log (one line per request, as in production) is read only to explain a failed start:
  // keep its tail, not the whole run's.
  let output = '';
  const keep = (chunk: Buffer) => (output = (output + chunk.toString()).slice(-65_536));
  child.stdout?.on('data', keep);
  child.stderr?.on('data', keep);
  await waitForHttp(`http://127.0.0.1:${options.workers[0]!.port}/`, child, () => output);
  return {
    stop: () =>
      new Promise((resolve) => {
        if (child.exitCode !== null) return resolve();
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}

async function waitForHttp(url: string, child: ChildProcess, output: () => string) {
  for (let attempt = 0; attempt < 100; attempt++) {
    if (child.exitCode !== null) throw new Error(`workerd exited (${child.exitCode}):\n${output()}`);
    try {
      await fetch(url);
      return;
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
  throw new Error(`workerd did not start:\n${output()}`);
}
