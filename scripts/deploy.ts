/**
 * `npm run deploy`: `wrangler deploy`, but only with a real mail sender (scripts/lib/mail-sender.ts) and behind a
 * Hyperdrive configuration with query caching disabled (scripts/lib/hyperdrive.ts says why). Needs a Cloudflare
 * login (`npx wrangler login`).
 */
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { REPO_ROOT } from './lib/dev-database.ts';
import { hyperdriveCachingProblem, hyperdriveIdFrom } from './lib/hyperdrive.ts';
import { senderProblem } from './lib/mail-sender.ts';
import { quotaProblem } from './lib/quota.ts';

const wrangler = path.join(
  path.dirname(createRequire(import.meta.url).resolve('wrangler/package.json')),
  'bin',
  'wrangler.js',
);
const runWrangler = (args: string[], capture: boolean) =>
  spawnSync(process.execPath, [wrangler, ...args], {
    cwd: REPO_ROOT,
    encoding: 'utf8',
    stdio: capture ? 'pipe' : 'inherit',
  });

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

const toml = readFileSync(path.join(REPO_ROOT, 'wrangler.toml'), 'utf8');
const sender = senderProblem(toml);
if (sender)
  fail(`${sender}: set it to an address of a domain onboarded to Cloudflare Email Sending (README, "Deploying")`);

const quota = quotaProblem(toml);
if (quota)
  fail(`${quota}: make API_RATE_LIMIT and API_RATE_LIMIT_PERIOD restate the binding (README, "API keys and quotas")`);

const id = hyperdriveIdFrom(toml);
if (!id) {
  fail(
    'wrangler.toml [[hyperdrive]] id is still the placeholder; create the configuration first (README, "Deploying"):\n' +
      '  npx wrangler hyperdrive create aegisflow --connection-string="postgres://USER:PASSWORD@HOST:5432/DB" --caching-disabled',
  );
}
const get = runWrangler(['hyperdrive', 'get', id], true);
if (get.status !== 0) fail(`wrangler hyperdrive get ${id} failed:\n${get.stderr || get.stdout}`);
const problem = hyperdriveCachingProblem(get.stdout);
if (problem)
  fail(`${problem}. Turn it off, then deploy again:\n  npx wrangler hyperdrive update ${id} --caching-disabled`);

const deploy = runWrangler(['deploy', ...process.argv.slice(2)], false);
process.exit(deploy.status ?? 1);
