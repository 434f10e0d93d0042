import { execFile } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const REPO_ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a Node-side tool (`scripts/<script>`) as its npm script would, against `databaseUrl`. */
export function runScript(script: string, args: string[], databaseUrl: string): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [`scripts/${script}`, ...args],
      { cwd: REPO_ROOT, env: { ...process.env, DATABASE_URL: databaseUrl } },
      (error, stdout, stderr) => resolve({ code: error ? Number(error.code ?? 1) : 0, stdout, stderr }),
    );
  });
}

/** Runs `npm run user:<command> -- ...args` as a user would, against `databaseUrl`. */
export const runUserCli = (command: 'create' | 'promote', args: string[], databaseUrl: string) => runScript('user.ts', [command, ...args], databaseUrl);
