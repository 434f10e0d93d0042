/**
 * `npm run bench [-- --smoke]`: the API under load, on the production build and runtime. Starts everything
 * itself on 127.0.0.1, seeds, measures in three modes (loopback, the edge latency model, a fixed rate),
 * prints a table with budgets, writes bench/results.json and stops what it started. See bench/README.md.
 */
import { promises as fs } from 'node:fs';
import { gzipSync } from 'node:zlib';
import os from 'node:os';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { freePort, startEmbeddedPostgres } from '../scripts/lib/embedded-postgres.ts';
import { REPO_ROOT } from '../scripts/lib/dev-database.ts';
import { applyMigrations } from '../scripts/lib/migrate.ts';
import { parseTrafficTiming } from '../src/db/traffic.ts';
import { postgres, WITHOUT_STATEMENT_LIMITS } from '../scripts/lib/node-postgres.ts';
import { spawnPooler } from './lib/pooler.ts';
import { resolve, runFixedRate, runLoad, type FixedRateResult, type LoadRequest } from './lib/load.ts';
import { seedProjects, seedRefreshTokens, seedTasks, seedUsers } from './lib/seed.ts';
import { buildBundle, EDGE_HEADERS, startWorkerd } from './lib/workerd.ts';
import { explainAdminList, explainMyTasks, explainProjectList, explainTaskList } from './lib/plans.ts';
import { startProfiling } from './lib/profile.ts';
import {
  EDGE_SCENARIOS,
  evaluateBudgets,
  FLOOR,
  KEY_TWINS,
  printReport,
  WORKER_CPU_LIMITS,
  type ScenarioResult,
} from './lib/report.ts';
import { cpuPerRequest, mapParts, sampleCpu, type CpuSample } from './lib/cpu.ts';

const { values: flags } = parseArgs({
  options: {
    smoke: { type: 'boolean', default: false },
    // For investigating some scenarios: `--only ready,get` (no budgets are judged then).
    only: { type: 'string' },
    // With --only: a CPU profile of the worker per scenario, in bench/out/<scenario>.cpuprofile.
    profile: { type: 'boolean', default: false },
    // The edge latency model's delay per database round trip, in ms.
    rtt: { type: 'string', default: '25' },
  },
});
const ONLY = flags.only?.split(',');
const SMOKE = flags.smoke;
const RTT_MS = Number(flags.rtt);
if (!Number.isFinite(RTT_MS) || RTT_MS < 0) throw new Error('--rtt takes a number of milliseconds');
const SETTINGS = SMOKE
  ? {
      users: 200,
      adminUsers: 2_000,
      bulkProjects: 2_000,
      bulkTasks: 2_000,
      movedTasks: 3_000,
      refreshTokens: 8_000,
      rounds: 1,
      seconds: 1,
      warmupSeconds: 0.5,
      edgeRounds: 1,
      edgeSeconds: 1,
      fixedRate: 100,
      fixedSeconds: 1,
      hashSamples: 3,
    }
  : {
      users: 1_000,
      adminUsers: 100_000,
      bulkProjects: 100_000,
      bulkTasks: 100_000,
      movedTasks: 30_000,
      refreshTokens: 30_000,
      rounds: 3,
      seconds: 2,
      warmupSeconds: 1.5,
      edgeRounds: 3,
      edgeSeconds: 1.5,
      fixedRate: 400,
      fixedSeconds: 6,
      hashSamples: 11,
    };
const CONNECTIONS = 16;
/** The open-loop run's scenarios: cheap reads, whose tail shows the API rather than a saturated machine. */
const FIXED_RATE_SCENARIOS = ['me', 'get', 'list'];
const OUT = path.join(REPO_ROOT, 'bench', 'out');
const log = (message: string) => console.log(`[bench] ${message}`);

/** The production [vars] of wrangler.toml, so the benchmark runs the configuration users get. */
async function productionVars(): Promise<Record<string, string>> {
  const toml = await fs.readFile(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  const section = /^\[vars\]\s*$([\s\S]*?)(?=^\[)/m.exec(toml)?.[1] ?? '';
  return Object.fromEntries(
    [...section.matchAll(/^([A-Z0-9_]+)\s*=\s*"([^"]*)"/gm)].map(([, key, value]) => [key!, value!]),
  );
}

async function compatibilityDate(): Promise<string> {
  const toml = await fs.readFile(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8');
  return /^compatibility_date\s*=\s*"([^"]+)"/m.exec(toml)![1]!;
}

/** The static assets (Swagger UI) `wrangler deploy` uploads beside the bundle: reported apart from it. */
async function assetSizes(): Promise<{ files: number; rawBytes: number; gzipBytes: number }> {
  const sizes = { files: 0, rawBytes: 0, gzipBytes: 0 };
  const entries = await fs
    .readdir(path.join(REPO_ROOT, 'public'), { recursive: true, withFileTypes: true })
    .catch(() => []);
  for (const entry of entries.filter((e) => e.isFile())) {
    const content = await fs.readFile(path.join(entry.parentPath, entry.name));
    sizes.files++;
    sizes.rawBytes += content.byteLength;
    sizes.gzipBytes += gzipSync(content, { level: 9 }).byteLength;
  }
  return sizes;
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
    const assets = await assetSizes();
    log(
      `bundle: ${(bundle.rawBytes / 1024).toFixed(1)} KiB raw, ${(bundle.gzipBytes / 1024).toFixed(1)} KiB gzip; static assets ${(assets.gzipBytes / 1024).toFixed(1)} KiB gzip`,
    );

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
    // Seeding a hundred thousand rows takes longer than the API's per-statement limit.
    const sql = postgres(databaseUrl, { max: 2, onnotice: () => {}, connection: WITHOUT_STATEMENT_LIMITS });
    cleanups.push(() => sql.end());

    // Hyperdrive keeps warm connections; the pooler plays that part (see bench/lib/pooler.ts), and adds the
    // edge latency model's delay when asked.
    const pooler = await spawnPooler(
      { host: '127.0.0.1', port: database.port, user: 'postgres', database: 'aegisflow_bench' },
      CONNECTIONS + 8,
    );
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
        headers: { 'Content-Type': 'application/json', ...EDGE_HEADERS },
        body: JSON.stringify({ email, password }),
      });
      if (res.status !== expected) throw new Error(`${path} failed: ${res.status} ${await res.text()}`);
      return (await res.json()) as T;
    };
    const signUp = async (email: string) => (await postCredentials<{ id: string }>('/auth/signup', email, 201)).id;
    const logIn = async (email: string) =>
      (await postCredentials<{ access_token: string }>('/auth/login', email, 200)).access_token;
    const readerId = await signUp('reader@bench.example');
    await signUp('creator@bench.example');
    const bulkId = await signUp('bulk@bench.example');
    const adminId = await signUp('admin@bench.example');
    await sql`update users set role = 'admin' where id = ${adminId}`;
    const [{ password_hash: sharedHash }] =
      (await sql`select password_hash from users where id = ${readerId}`) as unknown as [{ password_hash: string }];
    await seedUsers(sql, SETTINGS.users - 4, sharedHash);
    const projectIds = await seedProjects(sql, readerId, 50);
    await seedProjects(sql, bulkId, SETTINGS.bulkProjects);
    const reader = await logIn('reader@bench.example');
    const creator = await logIn('creator@bench.example');
    const bulk = await logIn('bulk@bench.example');
    const admin = await logIn('admin@bench.example');

    // Task projects are created through the API, so each has its default workflow; the reader owns them.
    const newProject = async (name: string) => {
      const res = await fetch(`${api}/projects`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${reader}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name }),
      });
      if (res.status !== 201) throw new Error(`creating ${name} failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { id: string }).id;
    };
    const [smallTasks, bigTasks, createTasks, moveTasks] = [
      await newProject('100 tasks'),
      await newProject('Many tasks'),
      await newProject('Created tasks'),
      await newProject('Moved tasks'),
    ];
    const smallTaskIds = await seedTasks(sql, smallTasks, 100, { createdBy: readerId, assigneeId: readerId });
    await seedTasks(sql, bigTasks, SETTINGS.bulkTasks, { createdBy: readerId });
    const moveTaskIds = await seedTasks(sql, moveTasks, SETTINGS.movedTasks, { createdBy: readerId });
    const moveStates =
      (await sql`select id, category from workflow_states where project_id = ${moveTasks} and category in ('unstarted', 'started') order by position`) as unknown as {
        id: string;
        category: string;
      }[];
    const [toDo, inProgress] = [
      moveStates.find((state) => state.category === 'unstarted')!.id,
      moveStates.find((state) => state.category === 'started')!.id,
    ];
    const refreshTokens = await seedRefreshTokens(sql, readerId, SETTINGS.refreshTokens);
    // The reader's API keys: one for /auth/me, one limited to the task list's project.
    const newKey = async (body: Record<string, unknown>) => {
      const expires = new Date(Date.now() + 86_400_000).toISOString();
      const res = await fetch(`${api}/auth/api-keys`, {
        method: 'POST',
        headers: { Authorization: `Bearer ${reader}`, 'Content-Type': 'application/json' },
        body: JSON.stringify({ name: 'bench', expires_at: expires, ...body }),
      });
      if (res.status !== 201) throw new Error(`creating a key failed: ${res.status} ${await res.text()}`);
      return ((await res.json()) as { key: string }).key;
    };
    const meKey = await newKey({ scopes: ['projects:read'] });
    const taskListKey = await newKey({ scopes: ['tasks:read'], project_ids: [bigTasks] });
    await sql`vacuum analyze`;
    log(
      `seeded ${SETTINGS.users} users, 50 projects for the list/get/update account, ${SETTINGS.bulkProjects.toLocaleString('en')} for list_100k's; ` +
        `task projects of 100 and ${SETTINGS.bulkTasks.toLocaleString('en')} tasks; ${SETTINGS.refreshTokens.toLocaleString('en')} refresh tokens`,
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
    // Each refresh presents a token no request has presented (a second use would be reuse: a 401 that
    // revokes the session). Past the last one they would repeat, which shows as non-2xx.
    let refreshCursor = 0;
    const auth = (token: string) => ({ Authorization: `Bearer ${token}`, ...EDGE_HEADERS });
    // Every request arrives as through the edge: the routes limited per address require it in production.
    const json = { 'Content-Type': 'application/json', ...EDGE_HEADERS };

    type Scenario = LoadRequest & { connections?: number };
    const scenarios: Record<string, Scenario> = {
      health: { path: '/health' },
      ready: { path: '/health/ready' },
      me: { path: '/auth/me', headers: auth(reader) },
      // The same with an API key: its worker CPU is judged against the session's, measured right before it.
      me_key: { path: '/auth/me', headers: auth(meKey) },
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
      create: {
        method: 'POST',
        path: '/projects',
        headers: { ...auth(creator), ...json },
        body: () => JSON.stringify({ name: `created ${cursor++}` }),
      },
      // With 1,000 users here; `admin_list`, the same page with 100,000, runs after the main rounds.
      admin_list_1k: { path: '/auth/admin/users?limit=20', headers: auth(admin) },
      task_list: { path: `/projects/${bigTasks}/tasks?limit=50`, headers: auth(reader) },
      // The same page for a project of 100 tasks: the budget is task_list's p50 at most twice this one's.
      task_list_100: { path: `/projects/${smallTasks}/tasks?limit=50`, headers: auth(reader) },
      task_list_key: { path: `/projects/${bigTasks}/tasks?limit=50`, headers: auth(taskListKey) },
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
      refresh: {
        method: 'POST',
        path: '/auth/refresh',
        headers: json,
        body: () => JSON.stringify({ refresh_token: refreshTokens[refreshCursor++ % refreshTokens.length] }),
      },
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
    // median over its windows. A scenario with a worker CPU budget gets a `ready` window right before it
    // each round, and its worker CPU beyond `ready` is taken against that window, so both are measured
    // under the same conditions.
    type Window = ScenarioResult & { floorWorkerd?: number };
    const measureWindow = async (
      name: string,
      scenario: Scenario,
      options: { seconds: number; warmupSeconds: number; label: string },
    ): Promise<Window> => {
      const { statements, roundTrips } = await probe(api, scenario);
      const connections = scenario.connections ?? CONNECTIONS;
      const profiler = flags.profile ? await startProfiling(inspectorPort) : undefined;
      let cpuBefore: CpuSample | undefined;
      const result = await runLoad(api, scenario, {
        connections,
        seconds: options.seconds,
        warmupSeconds: options.warmupSeconds,
        onMeasureStart: () => (cpuBefore = sampleCpu(pooler.pid)),
      });
      const cpu = cpuPerRequest(cpuBefore, sampleCpu(pooler.pid), result.requests);
      if (profiler) console.log((await profiler.stop(path.join(OUT, `${name}.cpuprofile`))).join('\n'));
      log(
        `${name.padEnd(15)} ${options.label}: ${result.requestsPerSecond.toFixed(0).padStart(6)} req/s  p50 ${result.p50} ms  p99 ${result.p99} ms  statements ${statements}/${roundTrips} rt` +
          (cpu
            ? `  cpu ms/req: workerd ${cpu.workerd} postgres ${cpu.postgres} pooler ${cpu.pooler} load ${cpu.load}`
            : ''),
      );
      return { ...result, statements, roundTrips, connections, cpuMsPerRequest: cpu };
    };
    // The write scenarios add thousands of rows and row versions within seconds; autovacuum would catch up
    // over minutes. Between windows the planner gets current statistics and dead versions are cleared, so
    // no scenario is measured against another's leftovers.
    const tidy = async () => {
      await sql`vacuum analyze projects`;
      await sql`vacuum analyze project_members`;
      await sql`vacuum analyze tasks`;
    };
    const wanted = (name: string) => !ONLY || ONLY.includes(name);
    const paired = (name: string) => name in WORKER_CPU_LIMITS && wanted(FLOOR);
    // A key scenario's floor is its session twin, measured right before it in the same round.
    const floorOf = (name: string) => KEY_TWINS[name] ?? (paired(name) ? FLOOR : undefined);
    const floorPaired = Object.keys(scenarios).some((name) => wanted(name) && paired(name));
    const selected = Object.entries(scenarios).filter(([name]) => wanted(name) && !(name === FLOOR && floorPaired));

    // 1. Loopback: throughput, CPU by process, worker CPU beyond `ready`, statements and round trips.
    const windows: Record<string, Window[]> = {};
    // The hash time is measured inside the rounds too, right after `login`, under the same conditions.
    const hashTimes: number[] = [];
    for (let round = 0; round < SETTINGS.rounds; round++) {
      const timing = {
        seconds: SETTINGS.seconds,
        warmupSeconds: round === 0 ? SETTINGS.warmupSeconds : 0.5,
        label: `round ${round + 1}`,
      };
      for (const [name, scenario] of selected) {
        await tidy();
        const floorName = floorOf(name);
        const floor = floorName ? await measureWindow(floorName, scenarios[floorName]!, timing) : undefined;
        if (floor && floorName === FLOOR) (windows[FLOOR] ??= []).push(floor);
        const window = await measureWindow(name, scenario, timing);
        (windows[name] ??= []).push({ ...window, floorWorkerd: floor?.cpuMsPerRequest?.workerd });
        if (name === 'login')
          hashTimes.push(await measureHashTime(`http://127.0.0.1:${hashPort}`, SETTINGS.hashSamples));
      }
    }

    // 2. The edge latency model: the same requests with every database round trip RTT_MS longer.
    const edgeSelected = selected.filter(([name]) => EDGE_SCENARIOS.includes(name));
    const edgeWindows: Record<string, Window[]> = {};
    const edgeAlone: Record<string, ScenarioResult> = {};
    const edgeHashTimes: number[] = [];
    if (edgeSelected.length > 0) {
      await pooler.setRoundTripDelay(RTT_MS);
      for (let round = 0; round < SETTINGS.edgeRounds; round++) {
        for (const [name, scenario] of edgeSelected) {
          await tidy();
          const window = await measureWindow(name, scenario, {
            seconds: SETTINGS.edgeSeconds,
            warmupSeconds: 0.5,
            label: `edge ${round + 1} (+${RTT_MS} ms/rt)`,
          });
          (edgeWindows[name] ??= []).push(window);
          // login's budget is its hash plus the round trip, so the hash is timed beside it here too.
          if (name === 'login')
            edgeHashTimes.push(await measureHashTime(`http://127.0.0.1:${hashPort}`, SETTINGS.hashSamples));
        }
      }
      // Each scenario once more with one client: the API's own latency at the edge, with nothing queued
      // beside it on the two shared cores (information for reading the misses, not a budget).
      for (const [name, scenario] of edgeSelected.filter(([, scenario]) => (scenario.connections ?? CONNECTIONS) > 1)) {
        await tidy();
        const window = await measureWindow(
          `${name}`,
          { ...scenario, connections: 1 },
          { seconds: SETTINGS.edgeSeconds, warmupSeconds: 0.3, label: `edge alone (+${RTT_MS} ms/rt)` },
        );
        edgeAlone[name] = window;
      }
      await pooler.setRoundTripDelay(0);
    }

    // 3. A fixed rate, open loop, on loopback: tails that reflect the API, not a saturated machine.
    const fixedRate: Record<string, FixedRateResult> = {};
    for (const [name, scenario] of selected.filter(([name]) => FIXED_RATE_SCENARIOS.includes(name))) {
      await tidy();
      await runFixedRate(api, scenario, { rate: SETTINGS.fixedRate, seconds: 1 }); // warm-up
      fixedRate[name] = await runFixedRate(api, scenario, { rate: SETTINGS.fixedRate, seconds: SETTINGS.fixedSeconds });
      const r = fixedRate[name];
      log(
        `${name.padEnd(15)} fixed ${r.targetRate}/s: achieved ${r.achievedRate}/s  p50 ${r.p50} ms  p99 ${r.p99} ms  p99.9 ${r.p99_9} ms  max ${r.max} ms`,
      );
    }

    // 4. admin_list at 100,000 users, after everything that ran with 1,000.
    const plans: Record<string, string[]> = {};
    if (wanted('admin_list')) {
      plans.admin_list_1k = await explainAdminList(sql, adminId);
      await seedUsers(sql, SETTINGS.adminUsers - SETTINGS.users, sharedHash, SETTINGS.users);
      await sql`vacuum analyze users`;
      await sql`checkpoint`;
      log(`seeded users up to ${SETTINGS.adminUsers.toLocaleString('en')} for admin_list`);
      for (let round = 0; round < SETTINGS.rounds; round++) {
        const window = await measureWindow('admin_list', scenarios.admin_list_1k!, {
          seconds: SETTINGS.seconds,
          warmupSeconds: round === 0 ? SETTINGS.warmupSeconds : 0.5,
          label: `round ${round + 1}`,
        });
        (windows.admin_list ??= []).push(window);
      }
      plans.admin_list = await explainAdminList(sql, adminId);
    }
    if (ONLY) return;

    const hashMs = median(hashTimes);
    const edgeHashMs = edgeHashTimes.length > 0 ? median(edgeHashTimes) : hashMs;
    log(
      `password hash alone (${(vars as Record<string, string>).PASSWORD_HASH_ALGORITHM}): p50 ${hashMs.toFixed(1)} ms (${edgeHashMs.toFixed(1)} ms beside the edge logins)`,
    );
    Object.assign(plans, {
      list: await explainProjectList(sql, readerId),
      list_100k: await explainProjectList(sql, bulkId),
      task_list: await explainTaskList(sql, readerId, bigTasks),
      task_list_100: await explainTaskList(sql, readerId, smallTasks),
      my_tasks: await explainMyTasks(sql, readerId),
    });

    const medians = (all: Record<string, Window[]>) =>
      Object.fromEntries(Object.entries(all).map(([name, runs]) => [name, medianOfRounds(runs)]));
    const measurements = {
      scenarios: medians(windows),
      edge: medians(edgeWindows),
      edgeAlone,
      rttMs: RTT_MS,
      fixedRate,
      hashMs,
      edgeHashMs,
      bundleGzipBytes: bundle.gzipBytes,
    };
    const budgets = evaluateBudgets(measurements);
    const report = {
      date: new Date().toISOString(),
      mode: SMOKE ? 'smoke' : 'full',
      machine: {
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(os.totalmem() / 2 ** 30),
        node: process.version,
      },
      settings: { ...SETTINGS, connections: CONNECTIONS, rttMs: RTT_MS },
      bundle: { rawBytes: bundle.rawBytes, gzipBytes: bundle.gzipBytes, assets },
      ...measurements,
      plans,
      budgets,
      durationSeconds: Math.round((Date.now() - started) / 1000),
    };
    printReport(report);
    await fs.writeFile(
      path.join(REPO_ROOT, 'bench', SMOKE ? 'out/results-smoke.json' : 'results.json'),
      `${JSON.stringify(report, null, 2)}\n`,
    );

    // A smoke run has too little data and time for latency or CPU figures to mean anything; it checks that
    // every scenario answers, and that the hot ones still take one statement in one round trip.
    const enforced = SMOKE ? budgets.filter((b) => /^(errors|statements|round trips):/.test(b.name)) : budgets;
    process.exitCode = enforced.some((b) => b.status === 'miss') ? 1 : 0;
  } finally {
    await cleanup();
  }
}

/** The middle value; for an even count, the mean of the two middle ones. */
function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

/** A scenario's figures over its rounds: medians of rates, latencies and CPU; sums of counts. */
function medianOfRounds(runs: (ScenarioResult & { floorWorkerd?: number })[]): ScenarioResult & { rounds: number } {
  const cpu = runs.every((run) => run.cpuMsPerRequest)
    ? mapParts((part) => median(runs.map((run) => run.cpuMsPerRequest![part])))
    : undefined;
  // Each round's extra against its own `ready` window, then the median: not a difference of two medians.
  const extras = runs.flatMap((run) =>
    run.floorWorkerd !== undefined && run.cpuMsPerRequest ? [run.cpuMsPerRequest.workerd - run.floorWorkerd] : [],
  );
  return {
    requestsPerSecond: median(runs.map((run) => run.requestsPerSecond)),
    p50: median(runs.map((run) => run.p50)),
    p99: median(runs.map((run) => run.p99)),
    p99_9: median(runs.map((run) => run.p99_9)),
    requests: runs.reduce((sum, run) => sum + run.requests, 0),
    errors: runs.reduce((sum, run) => sum + run.errors, 0),
    non2xx: runs.reduce((sum, run) => sum + run.non2xx, 0),
    statements: Math.max(...runs.map((run) => run.statements)),
    roundTrips: Math.max(...runs.map((run) => run.roundTrips)),
    connections: runs[0]!.connections,
    cpuMsPerRequest: cpu,
    ...(extras.length > 0 ? { workerExtraMs: Math.round(median(extras) * 100) / 100 } : {}),
    rounds: runs.length,
  };
}

/** One request of the scenario, outside the load: its status must be 2xx; returns its statements and round trips. */
async function probe(api: string, scenario: LoadRequest): Promise<{ statements: number; roundTrips: number }> {
  const res = await fetch(`${api}${resolve(scenario.path)}`, {
    method: scenario.method ?? 'GET',
    headers: scenario.headers,
    body: scenario.body === undefined ? undefined : resolve(scenario.body),
  });
  if (res.status >= 300)
    throw new Error(`probe of ${resolve(scenario.path)} answered ${res.status}: ${await res.text()}`);
  await res.arrayBuffer();
  const traffic = parseTrafficTiming(res.headers.get('Server-Timing'));
  if (!traffic) throw new Error('the worker did not report its statement count (SERVER_TIMING)');
  return traffic;
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
