/**
 * `npm run bench [-- --smoke]`: the API under load, on the production build and runtime, against
 * same-run floors. Starts everything itself on 127.0.0.1, seeds, measures, prints a table with
 * budgets, writes bench/results.json and stops what it started. See bench/README.md.
 */
import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.ts';
import { REPO_ROOT } from '../scripts/lib/dev-database.ts';
import { applyMigrations } from '../scripts/lib/migrate.ts';
import { parseTrafficTiming } from '../src/db/traffic.ts';
import { postgres, WITHOUT_STATEMENT_LIMITS } from '../scripts/lib/node-postgres.ts';
import { spawnPooler } from './lib/pooler.ts';
import { runLoad, type LoadRequest } from './lib/load.ts';
import { seedProjects, seedProjectsAcrossOwners, seedTasks, seedUsers } from './lib/seed.ts';
import { buildBundle, startWorkerd } from './lib/workerd.ts';
import { explainMyTasks, explainProjectList, explainTaskList } from './lib/plans.ts';
import { startProfiling } from './lib/profile.ts';
import { evaluateBudgets, FLOOR, printReport, THROUGHPUT_SHARES, type ScenarioResult } from './lib/report.ts';
import { cpuPerRequest, mapParts, sampleCpu, type CpuSample } from './lib/cpu.ts';

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    // For investigating one scenario: `--only ready,get` (no budgets are judged then).
    only: { type: 'string' },
    // With --only: a CPU profile of the worker per scenario, in bench/out/<scenario>.cpuprofile.
    profile: { type: 'boolean', default: false },
  },
});
const ONLY = flags.only?.split(',');
const SMOKE = flags.smoke;
const SETTINGS = SMOKE
  ? { users: 200, scaleProjects: 10_000, bulkProjects: 2_000, bulkTasks: 2_000, movedTasks: 3_000, rounds: 1, seconds: 1, warmupSeconds: 0.5, hashSamples: 3 }
  : { users: 10_000, scaleProjects: 1_000_000, bulkProjects: 100_000, bulkTasks: 100_000, movedTasks: 30_000, rounds: 3, seconds: 3.5, warmupSeconds: 2, hashSamples: 21 };
const CONNECTIONS = 16;
const OUT = path.join(REPO_ROOT, 'bench', 'out');
const log = (message: string) => console.log(`[bench] ${message}`);

/** The production [vars] of wrangler.toml, so the benchmark runs the configuration users get. */
async function productionVars(): Promise<Record<string, string>> {
  const toml = await fs.readFile(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  const section = /^\[vars\]\s*$([\s\S]*?)(?=^\[)/m.exec(toml)?.[1] ?? '';
  return Object.fromEntries([...section.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)].map(([, key, value]) => [key!, value!]));
}

async function compatibilityDate(): Promise<string> {
  const toml = await fs.readFile(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  return /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)![1]!;
}

async function main() {
  const started = Date.now();
  const cleanups: (() => Promise<unknown>)[] = [];
  const cleanup = async () => {
    for (const step of cleanups.reverse()) await step().catch(() => {});
    cleanups.length = 0;
  };
  process.once('SIGINT', () => void cleanup().then(() => process.exit(130)));

  try {
    log(`mode: ${SMOKE ? 'smoke (tiny data, 1 s per scenario, budgets not enforced)' : 'full'}`);
    await fs.mkdir(OUT, { recursive: true });
    // Profiles need readable function names, so --profile measures an unminified build.
    const bundle = await buildBundle(REPO_ROOT, path.join(OUT, 'worker'), undefined, { minify: !flags.profile });
    const hashBundle = await buildBundle(REPO_ROOT, path.join(OUT, 'hash-worker'), 'bench/hash-worker.ts');
    log(`bundle: ${(bundle.rawBytes / 1024).toFixed(1)} KiB raw, ${(bundle.gzipBytes / 1024).toFixed(1)} KiB gzip`);

    // Trust authentication on loopback: production Hyperdrive hands the worker a warm, already
    // authenticated connection, so a per-request SCRAM handshake would measure something users never pay.
    const work = await fs.mkdtemp(path.join(os.tmpdir(), 'aegisflow-bench-'));
    await fs.chmod(work, 0o755);
    cleanups.push(() => fs.rm(work, { recursive: true, force: true }));
    const database = await startEmbeddedPostgres({
      dataDir: path.join(work, 'data'),
      port: await freePort(),
      password: 'bench',
      auth: 'trust',
      settings: { max_connections: '200', shared_buffers: '256MB' },
    });
    cleanups.push(() => database.stop());
    await database.createDatabase('aegisflow_bench');
    const databaseUrl = database.url('aegisflow_bench');
    await applyMigrations(databaseUrl);
    // Seeding a million rows takes longer than the API's per-statement limit.
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {}, connection: WITHOUT_STATEMENT_LIMITS });
    cleanups.push(() => sql.end());

    // Hyperdrive keeps warm connections; the pooler plays that part (see bench/lib/pooler.ts).
    const pooler = await spawnPooler({ host: '127.0.0.1', port: database.port, user: 'postgres', database: 'aegisflow_bench' }, CONNECTIONS + 8);
    cleanups.push(() => pooler.close());

    const vars = {
      ...(await productionVars()),
      APP_ENV: 'production',
      JWT_SECRET: `bench-${crypto.randomUUID()}-${crypto.randomUUID()}`,
      SERVER_TIMING: 'true',
    };
    const [apiPort, hashPort, inspectorPort] = [await freePort(), await freePort(), await freePort()];
    const workerd = await startWorkerd({
      workers: [
        { name: 'api', bundle: bundle.file, port: apiPort, vars },
        { name: 'hash', bundle: hashBundle.file, port: hashPort, vars },
      ],
      database: { host: '127.0.0.1', port: pooler.port, name: 'aegisflow_bench', user: 'postgres', password: '' },
      compatibilityDate: await compatibilityDate(),
      configDir: work,
      inspectorPort: flags.profile ? inspectorPort : undefined,
    });
    cleanups.push(() => workerd.stop());
    const api = `http://127.0.0.1:${apiPort}`;
    log(`worker on ${api} (plain workerd) -> pooler 127.0.0.1:${pooler.port} -> PostgreSQL 127.0.0.1:${database.port}`);

    // Scenario accounts go through the API, so their hashes are the production policy's.
    const password = 'benchmark password';
    const postCredentials = async <T>(path: string, email: string, expected: number): Promise<T> => {
      const res = await fetch(`${api}${path}`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email, password }),
      });
      if (res.status !== expected) throw new Error(`${path} failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const signUp = async (email: string) => (await postCredentials<{ id: string }>('/auth/signup', email, 201)).id;
    const logIn = async (email: string) => (await postCredentials<{ access_token: string }>('/auth/login', email, 200)).access_token;
    const readerId = await signUp('reader@bench.example');
    await signUp('creator@bench.example');
    const bulkId = await signUp('bulk@bench.example');
    const adminId = await signUp('admin@bench.example');
    await sql`update users set role = 'admin' where id = ${adminId}`;
    const [{ password_hash: sharedHash }] = (await sql`select password_hash from users where id = ${readerId}`) as unknown as [
      { password_hash: string },
    ];
    await seedUsers(sql, SETTINGS.users - 4, sharedHash);
    const projectIds = await seedProjects(sql, readerId, 50);
    await seedProjects(sql, bulkId, SETTINGS.bulkProjects);
    const reader = await logIn('reader@bench.example');
    const creator = await logIn('creator@bench.example');
    const bulk = await logIn('bulk@bench.example');
    const admin = await logIn('admin@bench.example');

    // Task projects are created through the API, so each has its default workflow; the reader owns them.
    const newProject = async (name: string) => {
      const res = await fetch(`${api}/projects`, { method: 'POST', headers: { Authorization: `Bearer ${reader}`, 'Content-Type': 'application/json' }, body: JSON.stringify({ name }) });
      if (res.status !== 201) throw new Error(`creating ${name} failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    const [smallTasks, bigTasks, createTasks, moveTasks] = [await newProject('100 tasks'), await newProject('Many tasks'), await newProject('Created tasks'), await newProject('Moved tasks')];
    const smallTaskIds = await seedTasks(sql, smallTasks, 100, { createdBy: readerId, assigneeId: readerId });
    await seedTasks(sql, bigTasks, SETTINGS.bulkTasks, { createdBy: readerId });
    const moveTaskIds = await seedTasks(sql, moveTasks, SETTINGS.movedTasks, { createdBy: readerId });
    const moveStates = (await sql`select id, category from workflow_states where project_id = ${moveTasks} and category in ('unstarted', 'started') order by position`) as unknown as {
      id: string;
      category: string;
    }[];
    const [toDo, inProgress] = [moveStates.find((state) => state.category === 'unstarted')!.id, moveStates.find((state) => state.category === 'started')!.id];
    await sql`vacuum analyze`;
    log(
      `seeded ${SETTINGS.users} users, 50 projects for the list/get/update account, ${SETTINGS.bulkProjects.toLocaleString('en')} for list_100k's; ` +
        `task projects of 100 and ${SETTINGS.bulkTasks.toLocaleString('en')} tasks`,
    );

    let cursor = 0;
    const nextProject = () => projectIds[cursor++ % projectIds.length]!;
    let taskCursor = 0;
    const nextTask = () => smallTaskIds[taskCursor++ % smallTaskIds.length]!;
    // Each request moves a task no request has touched (more are seeded than a run sends), so a request
    // lost when a window closes cannot leave a later one moving a task to the state it is already in.
    // Past the last task, passes alternate direction.
    let moveCursor = 0;
    const nextMove = () => {
      const turn = moveCursor++;
      const taskId = moveTaskIds[turn % moveTaskIds.length]!;
      return { taskId, to: Math.floor(turn / moveTaskIds.length) % 2 === 0 ? inProgress : toDo };
    };
    let pendingMove = nextMove();
    const auth = (token: string) => ({ Authorization: `Bearer ${token}` });
    const json = { 'Content-Type': 'application/json' };

    const scenarios: Record<string, LoadRequest & { connections?: number }> = {
      health: { path: '/health' },
      ready: { path: '/health/ready' },
      me: { path: '/auth/me', headers: auth(reader) },
      get: { path: () => `/projects/${nextProject()}`, headers: auth(reader) },
      list: { path: '/projects?limit=20', headers: auth(reader) },
      // The same page for an owner of 100,000 projects: a page must not cost more for the rows behind it.
      list_100k: { path: '/projects?limit=20', headers: auth(bulk) },
      update: {
        method: 'PATCH',
        path: () => `/projects/${nextProject()}`,
        headers: { ...auth(reader), ...json },
        body: () => JSON.stringify({ description: `updated ${cursor}` }),
      },
      // A separate account, so the thousands of projects it creates do not change what `list` reads.
      create: { method: 'POST', path: '/projects', headers: { ...auth(creator), ...json }, body: () => JSON.stringify({ name: `created ${cursor++}` }) },
      admin_list: { path: '/auth/admin/users?limit=20', headers: auth(admin) },
      task_list: { path: `/projects/${bigTasks}/tasks?limit=50`, headers: auth(reader) },
      // The same page for a project of 100 tasks: the budget is task_list's p50 at most twice this one's.
      task_list_100: { path: `/projects/${smallTasks}/tasks?limit=50`, headers: auth(reader) },
      task_get: { path: () => `/tasks/${nextTask()}`, headers: auth(reader) },
      task_create: {
        method: 'POST',
        path: `/projects/${createTasks}/tasks`,
        headers: { ...auth(reader), ...json },
        body: () => JSON.stringify({ title: `created ${taskCursor++}`, priority: 'medium' }),
      },
      // The path and the body come from one move: the path is read first, the body right after it.
      task_transition: {
        method: 'POST',
        path: () => {
          pendingMove = nextMove();
          return `/tasks/${pendingMove.taskId}/transition`;
        },
        headers: { ...auth(reader), ...json },
        body: () => JSON.stringify({ to_state_id: pendingMove.to }),
      },
      my_tasks: { path: '/tasks?assignee=me&limit=50', headers: auth(reader) },
      // CPU-bound: at concurrency 16 it would measure queueing behind other hashes, not one login.
      login: {
        method: 'POST',
        path: '/auth/login',
        headers: json,
        body: JSON.stringify({ email: 'reader@bench.example', password }),
        connections: 1,
      },
    };

    // This machine's throughput moves by 10-30 % from one few-second window to the next (two shared cores).
    // Scenarios therefore run in rounds, each round visiting every scenario in turn, and each figure is the
    // median over its windows. The floor (`ready`) gets a window before every scenario with a throughput
    // budget, so its median comes from windows spread over the whole run (15 in a full run), not from three.
    const rounds: Record<string, ScenarioResult[]> = {};
    const measureRound = async (name: string, scenario: LoadRequest & { connections?: number }, round: number) => {
      const statements = await probeStatements(api, scenario);
      const connections = scenario.connections ?? CONNECTIONS;
      const profiler = flags.profile ? await startProfiling(inspectorPort) : undefined;
      let cpuBefore: CpuSample | undefined;
      const result = await runLoad(api, scenario, {
        connections,
        seconds: SETTINGS.seconds,
        warmupSeconds: round === 0 ? SETTINGS.warmupSeconds : 0.5,
        onMeasureStart: () => (cpuBefore = sampleCpu(pooler.pid)),
      });
      const cpu = cpuPerRequest(cpuBefore, sampleCpu(pooler.pid), result.requests);
      if (profiler) console.log((await profiler.stop(path.join(OUT, `${name}.cpuprofile`))).join('\n'));
      (rounds[name] ??= []).push({ ...result, statements, connections, cpuMsPerRequest: cpu });
      log(
        `${name.padEnd(10)} round ${round + 1}: ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  statements ${statements}` +
          (cpu ? `  cpu ms/req: workerd ${cpu.workerd} postgres ${cpu.postgres} pooler ${cpu.pooler} load ${cpu.load}` : ''),
      );
    };
    const wanted = (name: string) => !ONLY || ONLY.includes(name);
    const hasFloor = (name: string) => name in THROUGHPUT_SHARES && wanted(FLOOR);
    // The floor is measured before each scenario it is a floor for, and alone only when it is for none.
    const floorPaired = Object.keys(scenarios).some((name) => wanted(name) && hasFloor(name));
    const selected = Object.entries(scenarios).filter(([name]) => wanted(name) && !(name === FLOOR && floorPaired));
    // The hash time is measured inside the rounds too, right after `login`, so the two are compared
    // under the same conditions.
    const hashTimes: number[] = [];
    for (let round = 0; round < SETTINGS.rounds; round++) {
      for (const [name, scenario] of selected) {
        // The write scenarios add thousands of rows and row versions within seconds; autovacuum would
        // catch up over minutes. Between windows the planner gets current statistics and dead versions
        // are cleared, so no scenario is measured against another's leftovers.
        await sql`vacuum analyze projects`;
        await sql`vacuum analyze project_members`;
        await sql`vacuum analyze tasks`;
        if (hasFloor(name)) await measureRound(FLOOR, scenarios[FLOOR]!, round);
        await measureRound(name, scenario, round);
        if (name === 'login') hashTimes.push(await measureHashTime(`http://127.0.0.1:${hashPort}`, SETTINGS.hashSamples));
      }
    }
    if (ONLY) return;

    const hashMs = median(hashTimes);
    log(`password hash alone (${(vars as Record<string, string>).PASSWORD_HASH_ALGORITHM}): p50 ${hashMs.toFixed(1)} ms`);

    log(`seeding ${SETTINGS.scaleProjects.toLocaleString('en')} projects over ${SETTINGS.users - 4} owners for scale`);
    await seedProjectsAcrossOwners(sql, SETTINGS.scaleProjects);
    // Write the seed's dirty pages out now, not in the middle of the `scale` windows.
    await sql`checkpoint`;
    // The plans of the list scenarios' statements, after the scale seed: the tables as large as they get.
    const listPlans = {
      list: await explainProjectList(sql, readerId),
      list_100k: await explainProjectList(sql, bulkId),
      task_list: await explainTaskList(sql, readerId, bigTasks),
      task_list_100: await explainTaskList(sql, readerId, smallTasks),
      my_tasks: await explainMyTasks(sql, readerId),
    };
    for (let round = 0; round < SETTINGS.rounds; round++) await measureRound('scale', scenarios.list!, round);

    const results = Object.fromEntries(Object.entries(rounds).map(([name, runs]) => [name, medianOfRounds(runs)]));
    const budgets = evaluateBudgets(results, hashMs, bundle.gzipBytes);
    const report = {
      date: new Date().toISOString(),
      mode: SMOKE ? 'smoke' : 'full',
      machine: { cpus: os.cpus().length, cpuModel: os.cpus()[0]?.model ?? 'unknown', memoryGiB: Math.round(os.totalmem() / 2 ** 30), node: process.version },
      settings: { ...SETTINGS, connections: CONNECTIONS },
      bundle: { rawBytes: bundle.rawBytes, gzipBytes: bundle.gzipBytes },
      hashMs,
      scenarios: results,
      listPlans,
      budgets,
      durationSeconds: Math.round((Date.now() - started) / 1000),
    };
    printReport(report);
    await fs.writeFile(path.join(REPO_ROOT, 'bench', SMOKE ? 'out/results-smoke.json' : 'results.json'), `${JSON.stringify(report, null, 2)}\n`);

    const failures = SMOKE
      ? budgets.filter((budget) => budget.name.startsWith('errors:') && budget.status === 'miss')
      : budgets.filter((budget) => budget.status === 'miss');
    process.exitCode = failures.length > 0 ? 1 : 0;
  } finally {
    await cleanup();
  }
}

const median = (values: number[]) => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)]!;

/** A scenario's figures over its rounds: medians of rates, latencies and CPU; sums of counts. */
function medianOfRounds(runs: ScenarioResult[]): ScenarioResult & { rounds: number } {
  const cpu = runs.every((run) => run.cpuMsPerRequest)
    ? mapParts((part) => median(runs.map((run) => run.cpuMsPerRequest![part])))
    : undefined;
  return {
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    statements: Math.max(...runs.map((run) => run.statements)),
    connections: runs[0]!.connections,
    cpuMsPerRequest: cpu,
    rounds: runs.length,
  };
}

/** One request of the scenario, outside the load: its status must be 2xx; returns its statement count. */
async function probeStatements(api: string, scenario: LoadRequest): Promise<number> {
  const resolve = <T>(value: T | (() => T)) => (typeof value === 'function' ? (value as () => T)() : value);
  const res = await fetch(`${api}${resolve(scenario.path)}`, {
    method: scenario.method ?? 'GET',
    headers: scenario.headers,
    body: scenario.body === undefined ? undefined : resolve(scenario.body),
  });
  if (res.status >= 300) throw new Error(`probe of ${resolve(scenario.path)} answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  const traffic = parseTrafficTiming(res.headers.get('Server-Timing'));
  if (!traffic) throw new Error('the worker did not report its statement count (SERVER_TIMING)');
  return traffic.statements;
}

/** p50 of one verification at the configured policy, minus the p50 of an empty request to the same worker. */
async function measureHashTime(base: string, samples: number): Promise<number> {
  const p50 = async (pathname: string) => {
    const times: number[] = [];
    await fetch(`${base}${pathname}`).then((r) => r.arrayBuffer()); // warm
    for (let i = 0; i < samples; i++) {
      const startedAt = performance.now();
      const res = await fetch(`${base}${pathname}`);
      await res.arrayBuffer();
      times.push(performance.now() - startedAt);
    }
    return median(times);
  };
  return (await p50('/verify')) - (await p50('/noop'));
}

main().catch((error: unknown) => {
  console.error(`[bench] ${error instanceof Error ? (error.stack ?? error.message) : String(error)}`);
  process.exit(1);
});
