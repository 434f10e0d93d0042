import { CPU_PARTS, totalCpu, type CpuSample } from './cpu.ts';
import type { FixedRateResult, LoadResult } from './load.ts';

/*
 * The second edition's budgets (issue 15): what the worker itself spends, what a user at the edge waits,
 * how lists scale, statements and round trips, the bundle, and no errors. Requests/s, the /ready ratios and
 * p99 are printed as information: on two shared cores they measure the machine as much as the code (see
 * bench/README.md, "Why not throughput").
 */

export interface Budget {
  name: string;
  value: number;
  limit: number;
  /** How the value must compare with the limit. */
  rule: '<=' | '=';
  status: 'pass' | 'miss';
}

export type ScenarioResult = LoadResult & {
  statements: number;
  roundTrips: number;
  connections: number;
  cpuMsPerRequest: CpuSample | undefined;
  /** workerd's CPU ms per request beyond the `ready` window measured just before (budgeted scenarios only). */
  workerExtraMs?: number;
};

/** The scenario every comparison of worker CPU and throughput is made against: a connection and `select 1`. */
export const FLOOR = 'ready';

/** Budget 1: workerd CPU ms per request beyond `ready`'s, median over rounds. */
export const WORKER_CPU_LIMITS: Record<string, number> = {
  me: 0.2,
  get: 0.3,
  list: 0.6,
  create: 0.8,
  update: 0.6,
  task_list: 1.0,
  task_transition: 0.8,
};

/**
 * Budget 1b: a request with an API key costs the worker at most this much more CPU than the same request with
 * a session's access token (its twin, measured right before it in each round).
 */
export const KEY_TWINS: Record<string, string> = { me_key: 'me', task_list_key: 'task_list' };
const KEY_CPU_LIMIT_MS = 0.1;

/** Budget 2: scenarios that take one database round trip, whose p50 at the edge is at most RTT + 10 ms. */
export const EDGE_ONE_TRIP = [
  'me',
  'get',
  'list',
  'create',
  'update',
  'task_get',
  'task_list',
  'task_create',
  'task_transition',
  'my_tasks',
  'refresh',
];
export const EDGE_SCENARIOS = [...EDGE_ONE_TRIP, 'login'];
/**
 * Statements (each its own round trip) per request. Login counts its attempt before the password check
 * and gives it back after a success (src/modules/auth/throttle.ts), so it is the one hot path with two.
 */
export const expectedStatements = (name: string) => (name === 'login' ? 2 : 1);
const EDGE_SLACK_MS = 10;
const LOGIN_SLACK_MS = 15;

/** Budget 3: [large, small]: the large case's p50 at most twice the small one's. */
export const SCALE_PAIRS = [
  ['list_100k', 'list'],
  ['task_list', 'task_list_100'],
  ['admin_list', 'admin_list_1k'],
] as const;

const BUNDLE_GZIP_LIMIT_BYTES = 250 * 1024;
const FIXED_RATE_TAIL_RATIO = 5;
export const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function budget(name: string, value: number, rule: Budget['rule'], limit: number): Budget {
  const ok = rule === '<=' ? value <= limit : value === limit;
  return { name, value: round(value), limit: round(limit), rule, status: ok ? 'pass' : 'miss' };
}

export interface Measurements {
  /** Loopback (no added latency), 16 connections; `login` at 1. */
  scenarios: Record<string, ScenarioResult>;
  /** The same scenarios with every database round trip delayed by `rttMs`. */
  edge: Record<string, ScenarioResult>;
  /** Each edge scenario with one client instead of 16: the API's own latency at the edge, nothing queued beside it. */
  edgeAlone: Record<string, ScenarioResult>;
  rttMs: number;
  fixedRate: Record<string, FixedRateResult>;
  hashMs: number;
  /** The hash timed beside the edge logins (the machine's speed drifts over a run). */
  edgeHashMs: number;
  bundleGzipBytes: number;
}

export function evaluateBudgets(m: Measurements): Budget[] {
  const budgets: Budget[] = [];
  for (const [name, limit] of Object.entries(WORKER_CPU_LIMITS)) {
    const extra = m.scenarios[name]?.workerExtraMs;
    if (extra !== undefined) budgets.push(budget(`worker cpu: ${name} - ${FLOOR} (ms/req)`, extra, '<=', limit));
  }
  for (const [name, twin] of Object.entries(KEY_TWINS)) {
    const extra = m.scenarios[name]?.workerExtraMs;
    if (extra !== undefined) {
      budgets.push(budget(`worker cpu: ${name} - ${twin} (ms/req)`, extra, '<=', KEY_CPU_LIMIT_MS));
    }
  }
  for (const name of EDGE_SCENARIOS) {
    const result = m.edge[name];
    if (!result) continue;
    const limit =
      name === 'login' ? m.edgeHashMs + expectedStatements(name) * m.rttMs + LOGIN_SLACK_MS : m.rttMs + EDGE_SLACK_MS;
    budgets.push(
      budget(
        `edge p50: ${name} (ms, ${result.roundTrips} round trip${result.roundTrips === 1 ? '' : 's'})`,
        result.p50,
        '<=',
        limit,
      ),
    );
  }
  for (const [large, small] of SCALE_PAIRS) {
    const [l, s] = [m.scenarios[large], m.scenarios[small]];
    if (l && s) budgets.push(budget(`scale: ${large} p50 / ${small} p50`, l.p50 / Math.max(s.p50, 1), '<=', 2));
  }
  for (const name of [...EDGE_SCENARIOS, ...Object.keys(KEY_TWINS)]) {
    const result = m.scenarios[name];
    if (!result) continue;
    budgets.push(budget(`statements: ${name}`, result.statements, '=', expectedStatements(name)));
    budgets.push(budget(`round trips: ${name}`, result.roundTrips, '=', expectedStatements(name)));
  }
  budgets.push(budget('bundle: gzip KiB', m.bundleGzipBytes / 1024, '<=', BUNDLE_GZIP_LIMIT_BYTES / 1024));
  for (const [mode, results] of [
    ['', m.scenarios],
    ['edge ', m.edge],
    ['fixed rate ', m.fixedRate],
  ] as const) {
    for (const [name, result] of Object.entries(results)) {
      budgets.push(budget(`errors: ${mode}${name} (errors + non-2xx)`, result.errors + result.non2xx, '=', 0));
    }
  }
  return budgets;
}

/** Fixed-rate scenarios whose p99 is over 5x their p50: each is investigated in bench/README.md. */
export const tailOutliers = (fixedRate: Record<string, FixedRateResult>) =>
  Object.entries(fixedRate)
    .filter(([, r]) => r.p99 > FIXED_RATE_TAIL_RATIO * r.p50)
    .map(([name]) => name);

interface Report extends Measurements {
  date: string;
  mode: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  bundle: { rawBytes: number; gzipBytes: number; assets: { files: number; rawBytes: number; gzipBytes: number } };
  plans: Record<string, string[]>;
  budgets: Budget[];
  durationSeconds: number;
}

const line = (cells: (string | number | undefined)[], widths: number[]) =>
  cells
    .map((cell, i) => (i === 0 ? String(cell ?? '').padEnd(widths[i]!) : String(cell ?? '').padStart(widths[i]!)))
    .join('  ');

export function printReport(report: Report): void {
  const floor = report.scenarios[FLOOR]?.requestsPerSecond;
  console.log(`\nAegisFlow benchmark (${report.mode}) ${report.date}`);
  console.log(
    `${report.machine.cpus} x ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, ${report.machine.node}\n`,
  );

  console.log('Loopback (no added latency), medians over rounds:');
  const widths = [14, 5, 8, 6, 7, 7, 7, 8, 6, 5, 4];
  console.log(
    line(
      ['scenario', 'conns', 'req/s', `/${FLOOR}`, 'p50 ms', 'p99 ms', 'p99.9', 'requests', 'errors', 'stmts', 'rts'],
      widths,
    ),
  );
  for (const [name, r] of Object.entries(report.scenarios)) {
    const ratio = floor && name !== FLOOR ? (r.requestsPerSecond / floor).toFixed(2) : '';
    console.log(
      line(
        [
          name,
          r.connections,
          r.requestsPerSecond.toFixed(0),
          ratio,
          r.p50,
          r.p99,
          r.p99_9,
          r.requests,
          r.errors + r.non2xx,
          r.statements,
          r.roundTrips,
        ],
        widths,
      ),
    );
  }

  console.log(
    `\nCPU ms per request by process, and workerd's beyond the ${FLOOR} window before it (median over rounds):`,
  );
  const cpuWidths = [14, 8, 8, 8, 8, 7, 6, 12];
  console.log(line(['scenario', ...CPU_PARTS, 'total', 'cores', 'worker extra'], cpuWidths));
  for (const [name, r] of Object.entries(report.scenarios)) {
    const cpu = r.cpuMsPerRequest;
    if (!cpu) continue;
    const total = totalCpu(cpu);
    console.log(
      line(
        [
          name,
          ...CPU_PARTS.map((part) => cpu[part]),
          round(total),
          round((r.requestsPerSecond * total) / 1000),
          r.workerExtraMs,
        ],
        cpuWidths,
      ),
    );
  }

  console.log(
    `\nEdge latency model: every database round trip delayed ${report.rttMs} ms (connection set-up not), medians over rounds.`,
  );
  console.log(
    `Budget: p50 <= RTT + ${EDGE_SLACK_MS} ms (login: + the hash + ${LOGIN_SLACK_MS}). "alone": one client; "cores": what all four processes used (req/s x CPU per request).`,
  );
  const edgeWidths = [14, 5, 8, 7, 7, 7, 4, 9, 6];
  console.log(
    line(['scenario', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'p99.9', 'rts', 'alone p50', 'cores'], edgeWidths),
  );
  for (const [name, r] of Object.entries(report.edge)) {
    const cpu = report.scenarios[name]?.cpuMsPerRequest;
    const cores = cpu ? round((r.requestsPerSecond * totalCpu(cpu)) / 1000) : undefined;
    console.log(
      line(
        [
          name,
          r.connections,
          r.requestsPerSecond.toFixed(0),
          r.p50,
          r.p99,
          r.p99_9,
          r.roundTrips,
          report.edgeAlone[name]?.p50,
          cores,
        ],
        edgeWidths,
      ),
    );
  }

  console.log('\nFixed rate (open loop, loopback; latency from when each request was due):');
  const fixedWidths = [14, 6, 9, 7, 7, 7, 7, 8];
  console.log(line(['scenario', 'rate', 'achieved', 'p50 ms', 'p99 ms', 'p99.9', 'max', 'p99/p50'], fixedWidths));
  for (const [name, r] of Object.entries(report.fixedRate)) {
    console.log(
      line(
        [name, r.targetRate, r.achievedRate, r.p50, r.p99, r.p99_9, r.max, round(r.p99 / Math.max(r.p50, 0.1), 1)],
        fixedWidths,
      ),
    );
  }
  const outliers = tailOutliers(report.fixedRate);
  if (outliers.length)
    console.log(`  p99 over ${FIXED_RATE_TAIL_RATIO}x p50: ${outliers.join(', ')} (see bench/README.md)`);

  console.log(
    `\npassword hash alone: ${report.hashMs.toFixed(1)} ms (beside the edge logins: ${report.edgeHashMs.toFixed(1)} ms)`,
  );
  const kib = (bytes: number) => (bytes / 1024).toFixed(1);
  console.log(`bundle: ${kib(report.bundle.rawBytes)} KiB raw, ${kib(report.bundle.gzipBytes)} KiB gzip`);
  const { assets } = report.bundle;
  console.log(
    `static assets (Swagger UI, not in the bundle): ${assets.files} files, ${kib(assets.rawBytes)} KiB raw, ${kib(assets.gzipBytes)} KiB gzip\n`,
  );
  for (const [name, plan] of Object.entries(report.plans)) {
    console.log(`${name} query plan:`);
    for (const row of plan) console.log(`  ${row}`);
  }
  console.log('\nbudgets:');
  for (const b of report.budgets) {
    console.log(
      `  ${b.status === 'pass' ? 'pass' : 'MISS'}  ${b.name.padEnd(48)} ${String(b.value).padStart(9)} ${b.rule} ${b.limit}`,
    );
  }
  console.log(`\nfinished in ${report.durationSeconds} s`);
}
