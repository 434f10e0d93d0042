/**
 * The newest messages of the mail outbox, to read locally what the API mailed (a reset link, a verification
 * token, an invitation):
 *   npm run mail:outbox -- [--to EMAIL] [--limit N]
 * Outside production the outbox keeps each body; in production a sent message keeps none, and no route
 * shows mail. DATABASE_URL selects the database; the default is the embedded one `npm run dev` runs.
 */
import { parseArgs } from 'node:util';
import { desc, eq } from 'drizzle-orm';
import { mailOutbox } from '../src/db/account-schema.ts';
import { describeToolError, openToolDatabase } from './lib/tool-database.ts';

const { values } = parseArgs({
  options: { to: { type: 'string' }, limit: { type: 'string', default: '5' } },
});
const limit = Number(values.limit);
if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
  console.error('usage: npm run mail:outbox -- [--to EMAIL] [--limit 1-100]');
  process.exit(2);
}

const { db, close } = await openToolDatabase();
try {
  const messages = await db
    .select()
    .from(mailOutbox)
    .where(values.to ? eq(mailOutbox.recipient, values.to.trim().toLowerCase()) : undefined)
    .orderBy(desc(mailOutbox.id))
    .limit(limit);
  if (messages.length === 0) console.log('the outbox is empty');
  for (const message of messages.reverse()) {
    const state = message.sentAt
      ? `sent ${message.sentAt.toISOString()}`
      : message.gaveUpAt
        ? `given up: ${message.lastError}`
        : `waiting (attempts ${message.attempts}${message.lastError ? `, last error: ${message.lastError}` : ''})`;
    console.log(`#${message.id} ${message.createdAt.toISOString()} ${message.kind} to ${message.recipient} (${state})`);
    console.log(`Subject: ${message.subject}\n\n${message.textBody}\n${'-'.repeat(72)}`);
  }
} catch (error) {
  console.error(describeToolError(error));
  process.exitCode = 1;
} finally {
  await close();
}
