/**
 * Creates or promotes users directly in the database, with the API's own password hashing:
 *   npm run user:create -- --email E --password P [--full-name N] [--role admin]
 *   npm run user:promote -- --email E
 * DATABASE_URL selects the database; the default is the embedded one `npm run dev` runs.
 */
import { parseArgs } from 'node:util';
import { eq, sql as rawSql } from 'drizzle-orm';
import { auditInsert } from '../src/db/audit.ts';
import type { Database } from '../src/db/client.ts';
import { users } from '../src/db/schema.ts';
import { createUser } from '../src/modules/users/users.service.ts';
import { SignupBodySchema } from '../src/modules/auth/auth.schemas.ts';
import { RoleSchema } from '../src/modules/users/users.schemas.ts';
import { describeToolError, openToolDatabase } from './lib/tool-database.ts';

const USAGE = `usage:
  npm run user:create -- --email E --password P [--full-name N] [--role user|admin]
  npm run user:promote -- --email E`;

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
        password: values.password,
        full_name: values['full-name'],
      });
      if (!parsed.success) fail(parsed.error.issues.map((i) => `--${String(i.path[0]).replace('_', '-')}: ${i.message}`).join('; '));
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
        const [found] = await tx.select().from(users).where(eq(rawSql`lower(${users.email})`, email)).for('update');
        if (!found || found.role === 'admin') return found;
        const [promoted] = await tx.update(users).set({ role: 'admin', updatedAt: rawSql`now()` }).where(eq(users.id, found.id)).returning();
        // The system (no actor) changed the role: the trail shows it like any other role change.
        await auditInsert(tx as unknown as Database, { id: null, request: null }, { action: 'user.role_change', entityType: 'user', entityId: found.id, changes: { role: { old: found.role, new: 'admin' } } });
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
