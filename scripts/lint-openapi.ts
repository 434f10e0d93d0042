/**
 * `npm run lint:openapi`: Redocly's recommended rules (redocly.yaml) on the committed openapi.json.
 * Redocly exits 0 on warnings; the contract must have none, so any problem fails here.
 */
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from './lib/dev-database.ts';

interface LintReport {
  totals: { errors: number; warnings: number };
  problems: { ruleId: string; severity: string; message: string; location?: { pointer?: string }[] }[];
}

const redocly = path.join(
  path.dirname(createRequire(import.meta.url).resolve('@redocly/cli/package.json')),
  'bin',
  'cli.js',
);
const run = spawnSync(process.execPath, [redocly, 'lint', '--format=json', 'openapi.json'], {
  cwd: REPO_ROOT,
  encoding: 'utf8',
  // Offline machines and CI: no usage reports, no update check.
  env: { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true' },
});
let report: LintReport;
try {
  report = JSON.parse(run.stdout.slice(run.stdout.indexOf('{')));
} catch {
  console.error(`redocly lint produced no report (exit ${run.status}):\n${run.stdout}\n${run.stderr}`);
  process.exit(1);
}
for (const problem of report.problems) {
  console.error(`${problem.severity} ${problem.ruleId}: ${problem.message} (${problem.location?.[0]?.pointer ?? ''})`);
}
const { errors, warnings } = report.totals;
console.log(`openapi.json: ${errors} errors, ${warnings} warnings (Redocly recommended rules)`);
if (errors + warnings > 0) process.exit(1);
