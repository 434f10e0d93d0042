import { describe, expect, inject, it } from 'vitest';
import { verifyPassword } from '../../src/lib/password.ts';
import { postgres } from '../../scripts/lib/node-postgres.ts';
import { runUserCli } from './run-cli.ts';

const databaseUrl = inject('databaseUrl');
const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
const email = (label: string) => `${label}-${crypto.randomUUID()}@example.com`;

describe('npm run user:create / user:promote', () => {
  it('creates an admin with the API hashing policy, prints id and email, never the password', async () => {
    const address = email('cli-admin');
    const password = 'cli-password-1234';
    const result = await runUserCli(
      'create',
      ['--email', address.toUpperCase(), '--password', password, '--full-name', 'Cli Admin', '--role', 'admin'],
      databaseUrl,
    );
    expect(result.code).toBe(0);
    const [row] = await sql`select id, email, role, full_name, password_hash from users where email = ${address}`;
    expect(row).toMatchObject({ email: address, role: 'admin', full_name: 'Cli Admin' });
    expect(result.stdout).toContain(row!.id);
    expect(result.stdout).toContain(address);
    expect(result.stdout + result.stderr).not.toContain(password);
    expect(row!.password_hash).toMatch(/^\$scrypt\$ln=14,r=8,p=5\$/);
    expect(
      (await verifyPassword(password, row!.password_hash, { algorithm: 'scrypt', logN: 14, r: 8, p: 5 })).valid,
    ).toBe(true);
  });

  it('refuses a duplicate email with a clear message and a non-zero exit', async () => {
    const address = email('cli-dup');
    expect((await runUserCli('create', ['--email', address, '--password', 'first-password'], databaseUrl)).code).toBe(
      0,
    );
    const again = await runUserCli(
      'create',
      ['--email', address.toUpperCase(), '--password', 'second-password'],
      databaseUrl,
    );
    expect(again.code).not.toBe(0);
    expect(again.stderr).toMatch(/already exists/);
    expect(again.stderr).not.toContain('second-password');
  });

  it('validates input like the API does', async () => {
    const cases = [
      ['--email', 'not-an-email', '--password', 'long-enough-pw'],
      ['--email', email('short'), '--password', 'short'],
      ['--email', email('role'), '--password', 'long-enough-pw', '--role', 'root'],
      ['--password', 'long-enough-pw'],
    ];
    for (const args of cases) {
      const result = await runUserCli('create', args, databaseUrl);
      expect(result.code).not.toBe(0);
      expect(result.stderr).toMatch(/error:/);
    }
  });

  it('reads the password from standard input or AEGISFLOW_PASSWORD, so it is in no argument list', async () => {
    const piped = email('cli-stdin');
    const fromInput = await runUserCli('create', ['--email', piped], databaseUrl, {
      input: 'a piped passphrase\nignored line\n',
    });
    expect(fromInput.code, fromInput.stderr).toBe(0);
    expect(fromInput.stderr).not.toMatch(/warning/);
    const [row] = await sql`select password_hash from users where email = ${piped}`;
    expect(
      (await verifyPassword('a piped passphrase', row!.password_hash, { algorithm: 'scrypt', logN: 14, r: 8, p: 5 }))
        .valid,
    ).toBe(true);
    const fromEnv = email('cli-env');
    expect(
      (
        await runUserCli('create', ['--email', fromEnv], databaseUrl, {
          env: { AEGISFLOW_PASSWORD: 'an environment passphrase' },
        })
      ).code,
    ).toBe(0);
    const [envRow] = await sql`select password_hash from users where email = ${fromEnv}`;
    expect(
      (
        await verifyPassword('an environment passphrase', envRow!.password_hash, {
          algorithm: 'scrypt',
          logN: 14,
          r: 8,
          p: 5,
        })
      ).valid,
    ).toBe(true);
    // The flag still works for scripts, with a warning; the API's password rules hold here too.
    const flagged = await runUserCli(
      'create',
      ['--email', email('cli-flag'), '--password', 'flagged passphrase'],
      databaseUrl,
    );
    expect(flagged.code).toBe(0);
    expect(flagged.stderr).toMatch(/warning: --password/);
    const weak = await runUserCli('create', ['--email', email('cli-weak')], databaseUrl, { input: 'password1\n' });
    expect(weak.code).not.toBe(0);
    expect(weak.stderr).toMatch(/too weak/);
  });

  it('promotes an existing user to admin, and says so when the email is unknown', async () => {
    const address = email('cli-promote');
    await runUserCli('create', ['--email', address, '--password', 'promote-me-please'], databaseUrl);
    const [before] = await sql`select id, token_epoch from users where email = ${address}`;
    await sql`insert into sessions (user_id, expires_at, token_epoch) values (${before!.id}, now() + interval '1 day', ${before!.token_epoch})`;
    const result = await runUserCli('promote', ['--email', address], databaseUrl);
    expect(result.code).toBe(0);
    expect(result.stdout).toContain('promoted');
    expect((await sql`select role from users where email = ${address}`)[0]!.role).toBe('admin');
    // As the API's role change: the epoch moves on (older access tokens end) and every session is revoked.
    const [after] = await sql`select token_epoch from users where email = ${address}`;
    expect(after!.token_epoch).toBe(before!.token_epoch + 1);
    const live = await sql`select id from sessions where user_id = ${before!.id} and revoked_at is null`;
    expect(live).toHaveLength(0);
    const missing = await runUserCli('promote', ['--email', email('ghost')], databaseUrl);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no user/);
  });

  it('explains an unreachable database instead of crashing', async () => {
    const result = await runUserCli(
      'create',
      ['--email', email('down'), '--password', 'long-enough-pw'],
      'postgres://postgres:x@127.0.0.1:9/none',
    );
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/cannot reach the database/);
  });
});
