import { readdirSync, readFileSync } from 'node:fs';

/**
 * CPU seconds used so far by each part of the benchmark, from /proc (Linux): the load generator (this
 * process), the pooler, workerd and PostgreSQL (all its processes). Sampled around each scenario, it
 * tells where a request's cost goes, which requests/s alone cannot.
 */
export const CPU_PARTS = ['workerd', 'postgres', 'pooler', 'load'] as const;
export type CpuSample = Record<(typeof CPU_PARTS)[number], number>;

const TICKS_PER_SECOND = 100;

function readStat(pid: string): { comm: string; seconds: number } | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const comm = stat.slice(stat.indexOf('(') + 1, stat.lastIndexOf(')'));
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { comm, seconds: (Number(fields[11]) + Number(fields[12])) / TICKS_PER_SECOND };
  } catch {
    return undefined;
  }
}

export function sampleCpu(poolerPid: number | undefined): CpuSample | undefined {
  if (process.platform !== 'linux') return undefined;
  const sample = mapParts(() => 0);
  for (const pid of readdirSync('/proc').filter((name) => /^\d+$/.test(name))) {
    const stat = readStat(pid);
    if (!stat) continue;
    if (Number(pid) === process.pid) sample.load += stat.seconds;
    else if (Number(pid) === poolerPid) sample.pooler += stat.seconds;
    else if (stat.comm === 'workerd') sample.workerd += stat.seconds;
    else if (stat.comm === 'postgres') sample.postgres += stat.seconds;
  }
  return sample;
}

/** CPU milliseconds per request for each part, between two samples. */
export function cpuPerRequest(
  before: CpuSample | undefined,
  after: CpuSample | undefined,
  requests: number,
): CpuSample | undefined {
  if (!before || !after || requests === 0) return undefined;
  return mapParts((part) => Math.round(((after[part] - before[part]) * 1000 * 100) / requests) / 100);
}

/** A figure for every part. */
export const mapParts = (value: (part: (typeof CPU_PARTS)[number]) => number) =>
  Object.fromEntries(CPU_PARTS.map((part) => [part, value(part)])) as CpuSample;

/** All parts together. */
export const totalCpu = (cpu: CpuSample) => CPU_PARTS.reduce((sum, part) => sum + cpu[part], 0);
