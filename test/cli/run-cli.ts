import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface RunOptions {
  /** Written to the tool's standard input (a pipe, never a terminal), which is then closed. */
  input?: string;
  env?: Record<string, string>;
}

/** Runs a Node-side tool (`scripts/<script>`) as its npm script would, against `databaseUrl`. */
export function runScript(
  script: string,
  args: string[],
  databaseUrl: string,
  options: RunOptions = {},
): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = execFile(
      process.execPath,
      [`scripts/${script}`, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: databaseUrl, ...options.env } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
    child.stdin?.end(options.input ?? '');
  });
}

/** Runs `npm run user:<command> -- ...args` as a user would, against `databaseUrl`. */
export const runUserCli = (
  command: 'create' | 'promote',
  args: string[],
  databaseUrl: string,
  options: RunOptions = {},
) => runScript('user.ts', [command, ...args], databaseUrl, options);
