import { CPU_PARTS, totalCpu, type CpuSample } from './cpu.ts';
import type { LoadResult } from './load.ts';

export interface Budget {
  name: string;
  measured: number;
  limit: number;
  /** How the measured value must compare with the limit. */
  rule: '>=' | '<=' | '=';
  status: 'pass' | 'miss';
  /** Throughput budgets: what the CPU figures of the same run say about the share (see `CpuShares`). */
  cpu?: CpuShares;
}

/**
 * What the CPU figures of the same run say about a throughput share. The two cores are shared by workerd,
 * PostgreSQL, the pooler and the load generator, and in every window they use about the same cores in all
 * (`cores`, printed per scenario), so requests/s is inversely proportional to total CPU per request.
 * Keeping everything as measured except the worker's CPU beyond the floor's:
 * - `ceiling`: the share if the worker spent no more CPU on the scenario than on the floor (`select 1`).
 *   Making the worker cheaper cannot lift the share above it on this machine.
 * - `workerExtraMs`: the worker CPU per request the scenario measurably spends beyond the floor's;
 *   `workerAllowanceMs`: the most it may spend for the share to meet its limit (negative: none).
 */
export interface CpuShares {
  ceiling: number;
  workerExtraMs: number;
  workerAllowanceMs: number;
}


export function cpuShares(floor: ScenarioResult, scenario: ScenarioResult, limit: number): CpuShares | undefined {
  const [f, s] = [floor.cpuMsPerRequest, scenario.cpuMsPerRequest];
  if (!f || !s) return undefined;
  const share = scenario.requestsPerSecond / floor.requestsPerSecond;
  const workerExtra = s.workerd - f.workerd;
  const withoutWorkerExtra = totalCpu(s) - workerExtra;
  return {
    ceiling: round((share * totalCpu(s)) / withoutWorkerExtra),
    workerExtraMs: round(workerExtra),
    workerAllowanceMs: round((share * totalCpu(s)) / limit - withoutWorkerExtra),
  };
}

export type ScenarioResult = LoadResult & {
  statements: number;
  connections: number;
  cpuMsPerRequest: CpuSample | undefined;
};

const BUNDLE_GZIP_LIMIT_BYTES = 250 * 1024;
const round = (value: number, digits = 2) => Math.round(value * 10 ** digits) / 10 ** digits;

function budget(name: string, measured: number, rule: Budget['rule'], limit: number): Budget {
  const ok = rule === '>=' ? measured >= limit : rule === '<=' ? measured <= limit : measured === limit;
  return { name, measured: round(measured), limit: round(limit), rule, status: ok ? 'pass' : 'miss' };
}

/** The scenario every throughput budget is a share of, and the shares. */
export const FLOOR = 'ready';
export const THROUGHPUT_SHARES: Record<string, number> = { me: 0.8, get: 0.8, list: 0.7, create: 0.7, update: 0.7 };

/** The budgets of issue 5, each measured against a floor from the same run. */
export function evaluateBudgets(results: Record<string, ScenarioResult>, hashMs: number, bundleGzipBytes: number): Budget[] {
  const budgets: Budget[] = [];
  const floor = results[FLOOR]!.requestsPerSecond;
  for (const [name, share] of Object.entries(THROUGHPUT_SHARES)) {
    const cpu = cpuShares(results[FLOOR]!, results[name]!, share);
    budgets.push({ ...budget(`throughput: ${name} / ${FLOOR}`, results[name]!.requestsPerSecond / floor, '>=', share), ...(cpu && { cpu }) });
  }
  for (const [name, limit] of [['me', 1], ['get', 2], ['list', 2], ['create', 2], ['update', 2]] as const) {
    budgets.push(budget(`statements: ${name}`, results[name]!.statements, name === 'me' ? '=' : '<=', limit));
  }
  budgets.push(budget('latency: login p50 - hash (ms)', results.login!.p50 - hashMs, '<=', 15));
  budgets.push(budget('latency: scale p50 / list p50', results.scale!.p50 / Math.max(results.list!.p50, 1), '<=', 1.25));
  budgets.push(budget('latency: list_100k p50 / list p50', results.list_100k!.p50 / Math.max(results.list!.p50, 1), '<=', 2));
  budgets.push(budget('latency: task_list p50 / task_list_100 p50', results.task_list!.p50 / Math.max(results.task_list_100!.p50, 1), '<=', 2));
  for (const name of ['task_list', 'task_get', 'task_create', 'task_transition', 'my_tasks']) {
    budgets.push(budget(`statements: ${name}`, results[name]!.statements, '=', 1));
  }
  budgets.push(budget('bundle: gzip KiB', bundleGzipBytes / 1024, '<=', BUNDLE_GZIP_LIMIT_BYTES / 1024));
  for (const [name, result] of Object.entries(results)) {
    budgets.push(budget(`errors: ${name} (errors + non-2xx)`, result.errors + result.non2xx, '=', 0));
  }
  return budgets;
}

interface Report {
  date: string;
  mode: string;
  machine: { cpus: number; cpuModel: string; memoryGiB: number; node: string };
  bundle: { rawBytes: number; gzipBytes: number };
  hashMs: number;
  scenarios: Record<string, ScenarioResult>;
  /** The plan of each list scenario's statement. */
  listPlans: Record<string, string[]>;
  budgets: Budget[];
  durationSeconds: number;
}

export function printReport(report: Report): void {
  const line = (cells: (string | number)[], widths: number[]) =>
    cells.map((cell, i) => (i === 0 ? String(cell).padEnd(widths[i]!) : String(cell).padStart(widths[i]!))).join('  ');
  const widths = [12, 6, 9, 8, 8, 10, 7, 7, 9];
  const floor = report.scenarios[FLOOR]?.requestsPerSecond;
  console.log(`\nAegisFlow benchmark (${report.mode}) ${report.date}`);
  console.log(`${report.machine.cpus} x ${report.machine.cpuModel}, ${report.machine.memoryGiB} GiB, ${report.machine.node}\n`);
  console.log(line(['scenario', 'conns', 'req/s', 'p50 ms', 'p99 ms', 'requests', 'errors', 'stmts', `/${FLOOR}`], widths));
  for (const [name, r] of Object.entries(report.scenarios)) {
    const ratio = floor && name in THROUGHPUT_SHARES ? (r.requestsPerSecond / floor).toFixed(2) : '';
    console.log(line([name, r.connections, r.requestsPerSecond.toFixed(1), r.p50, r.p99, r.requests, r.errors + r.non2xx, r.statements, ratio], widths));
  }
  console.log(`(/${FLOOR}: the scenario's median requests/s over the median of the ${FLOOR} windows, one before each budgeted scenario)`);
  console.log('\nCPU ms per request (medians over windows), and the cores all four used (req/s x total):');
  const cpuWidths = [12, 9, 9, 9, 9, 9, 7];
  console.log(line(['scenario', ...CPU_PARTS, 'total', 'cores'], cpuWidths));
  for (const [name, r] of Object.entries(report.scenarios)) {
    const cpu = r.cpuMsPerRequest;
    if (!cpu) continue;
    const total = totalCpu(cpu);
    console.log(line([name, ...CPU_PARTS.map((part) => cpu[part]), round(total), round((r.requestsPerSecond * total) / 1000)], cpuWidths));
  }
  console.log(`\npassword hash alone: ${report.hashMs.toFixed(1)} ms`);
  console.log(`bundle: ${(report.bundle.rawBytes / 1024).toFixed(1)} KiB raw, ${(report.bundle.gzipBytes / 1024).toFixed(1)} KiB gzip\n`);
  for (const [name, plan] of Object.entries(report.listPlans)) {
    console.log(`${name} query plan:`);
    for (const row of plan) console.log(`  ${row}`);
  }
  console.log('\nbudgets (throughput: the ceiling if the worker cost no more than on the floor; its extra CPU over the floor, measured and allowed):');
  for (const b of report.budgets) {
    const cpu = b.cpu ? `   (ceiling ${b.cpu.ceiling}; worker extra ${b.cpu.workerExtraMs} ms, allowed ${b.cpu.workerAllowanceMs} ms)` : '';
    console.log(`  ${b.status === 'pass' ? 'pass' : 'MISS'}  ${b.name.padEnd(40)} ${String(b.measured).padStart(10)} ${b.rule} ${b.limit}${cpu}`);
  }
  console.log(`\nfinished in ${report.durationSeconds} s`);
}
