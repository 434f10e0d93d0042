/**
 * Creates or promotes users directly in the database, with the API's own password policy and hashing:
 *   npm run user:create -- --email E [--full-name N] [--role admin]
 *   npm run user:promote -- --email E
 * The new password is asked for at the terminal (not echoed, twice), or read from the first line of
 * standard input when that is not a terminal, or taken from AEGISFLOW_PASSWORD. `--password P` remains
 * for scripts that cannot do otherwise: it leaves the password in the process list and shell history.
 * DATABASE_URL selects the database; the default is the embedded one `npm run dev` runs.
 */
import { parseArgs } from 'node:util';
import { eq, sql as rawSql } from 'drizzle-orm';
import { auditInsertPerCall } from '../src/db/audit.ts';
import type { Database } from '../src/db/client.ts';
import { users } from '../src/db/schema.ts';
import { createUser } from '../src/modules/users/users.service.ts';
import { revokeEverySession } from '../src/db/sessions.ts';
import { SignupBodySchema } from '../src/modules/auth/auth.schemas.ts';
import { RoleSchema } from '../src/modules/users/users.schemas.ts';
import { describeToolError, openToolDatabase } from './lib/tool-database.ts';

const USAGE = `usage:
  npm run user:create -- --email E [--full-name N] [--role user|admin]   (the password: asked, stdin, or AEGISFLOW_PASSWORD)
  npm run user:promote -- --email E`;

/** Reads a line at the terminal without echoing it. */
function promptHidden(question: string): Promise<string> {
  return new Promise((resolve) => {
    process.stderr.write(question);
    const input = process.stdin;
    input.setRawMode(true);
    input.setEncoding('utf8');
    input.resume();
    let value = '';
    const onData = (chunk: string) => {
      for (const character of chunk) {
        if (character === '\u0003') process.exit(130);
        if (character === '\r' || character === '\n') {
          input.off('data', onData);
          input.setRawMode(false);
          input.pause();
          process.stderr.write('\n');
          return resolve(value);
        }
        value = character === '\u007f' || character === '\b' ? value.slice(0, -1) : value + character;
      }
    };
    input.on('data', onData);
  });
}

/** The first line of standard input (a pipe or a file). */
async function firstLineOfInput(): Promise<string> {
  let text = '';
  for await (const chunk of process.stdin) {
    text += chunk;
    if (text.includes('\n')) break;
  }
  return text.split(/\r?\n/)[0] ?? '';
}

/** The new user's password, from the safest source the caller offers (see the header). */
async function newPassword(flag: string | undefined): Promise<string> {
  if (flag !== undefined) {
    console.error(
      'warning: --password leaves the password in the process list and shell history; prefer the prompt, standard input or AEGISFLOW_PASSWORD',
    );
    return flag;
  }
  if (process.env.AEGISFLOW_PASSWORD) return process.env.AEGISFLOW_PASSWORD;
  if (!process.stdin.isTTY) return firstLineOfInput();
  const password = await promptHidden('Password: ');
  if ((await promptHidden('Again: ')) !== password) fail('the two passwords differ');
  return password;
}

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(1);
}

async function main() {
  const [command, ...rest] = process.argv.slice(2);
  const { values } = parseArgs({
    args: rest,
    options: {
      email: { type: 'string' },
      password: { type: 'string' },
      'full-name': { type: 'string' },
      role: { type: 'string', default: 'user' },
    },
    strict: true,
  });
  if (command !== 'create' && command !== 'promote') fail(USAGE);
  if (!values.email) fail(`--email is required\n${USAGE}`);

  const { db, config, close } = await openToolDatabase();
  try {
    if (command === 'create') {
      const parsed = SignupBodySchema.safeParse({
        email: values.email,
        password: await newPassword(values.password),
        full_name: values['full-name'],
      });
      if (!parsed.success)
        fail(parsed.error.issues.map((i) => `--${String(i.path[0]).replace('_', '-')}: ${i.message}`).join('; '));
      const role = RoleSchema.safeParse(values.role);
      if (!role.success) fail('--role must be user or admin');
      const user = await createUser(
        db,
        { email: parsed.data.email, password: parsed.data.password, fullName: parsed.data.full_name, role: role.data },
        config.passwordPolicy,
        null,
      );
      console.log(`created ${user.role} ${user.email} (id ${user.id})`);
    } else {
      const email = values.email.trim().toLowerCase();
      const user = await db.transaction(async (tx) => {
        const [found] = await tx
          .select()
          .from(users)
          .where(eq(rawSql`lower(${users.email})`, email))
          .for('update');
        if (!found || found.role === 'admin') return found;
        // As the API's role change: every session of the user ends, and every access token issued so far.
        const [promoted] = await tx
          .update(users)
          .set({ role: 'admin', tokenEpoch: rawSql`${users.tokenEpoch} + 1`, updatedAt: rawSql`now()` })
          .where(eq(users.id, found.id))
          .returning();
        await revokeEverySession(tx as unknown as Database, found.id);
        // The system (no actor) changed the role: the trail shows it like any other role change.
        await auditInsertPerCall(
          tx as unknown as Database,
          { id: null, request: null },
          {
            action: 'user.role_change',
            entityType: 'user',
            entityId: found.id,
            changes: { role: { old: found.role, new: 'admin' } },
          },
        );
        return promoted;
      });
      if (!user) fail(`no user with email ${email}`);
      console.log(`promoted ${user.email} (id ${user.id}) to admin`);
    }
  } catch (error) {
    fail(describeToolError(error));
  } finally {
    await close();
  }
}

await main();
