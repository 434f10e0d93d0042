import { promises as fs } from 'node:fs';
import path from 'node:path';
import { REPO_ROOT } from './dev-database.ts';

const DEV_VARS = path.join(REPO_ROOT, '.dev.vars');
const EXAMPLE = path.join(REPO_ROOT, '.dev.vars.example');

/** Parses `.dev.vars` (KEY=value lines, `#` comments, optional quotes); empty when it does not exist. */
export async function readDevVars(): Promise<Record<string, string>> {
  const text = await fs.readFile(DEV_VARS, 'utf8').catch(() => '');
  const entries = text
    .split('\n')
    .map((line) => /^\s*([A-Z0-9_]+)\s*=\s*(.*?)\s*$/.exec(line))
    .filter((match): match is RegExpExecArray => match !== null)
    .map(([, key, value]) => [key!, value!.replace(/^(["'])(.*)\1$/, '$2')]);
  return Object.fromEntries(entries);
}

/** First run: copy the example with a freshly generated JWT secret, so nobody runs on a shared one. */
export async function ensureDevVars(): Promise<boolean> {
  if (
    await fs.access(DEV_VARS).then(
      () => true,
      () => false,
    )
  )
    return false;
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(48))).toString('base64url');
  const example = await fs.readFile(EXAMPLE, 'utf8');
  await fs.writeFile(DEV_VARS, example.replace(/^JWT_SECRET=.*$/m, `JWT_SECRET=${secret}`), { mode: 0o600 });
  return true;
}
