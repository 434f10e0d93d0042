import { and, asc, eq, inArray, isNull, lt, lte, sql } from 'drizzle-orm';
import type { AppConfig } from '../../config.ts';
import type { AppContext } from '../../context.ts';
import { mailOutbox } from '../../db/account-schema.ts';
import type { Database } from '../../db/client.ts';
import { afterResponse } from '../../db/own-database.ts';
import { FLAG, slots, statement, statementFamily } from '../../db/statements.ts';
import { describeError, writeLog } from '../../lib/log.ts';

/*
 * Sending what the outbox holds through the `EMAIL` binding (Cloudflare Email Service; `wrangler dev` and
 * the tests record each message instead). A request that wrote messages sends them right after its
 * response (`waitUntil`); the Cron Trigger sends whatever is still due, so a crash, a failed send or a
 * request that could not wait loses nothing. A sender claims a message before sending it (its next
 * attempt moves a lease ahead, `FOR UPDATE SKIP LOCKED`), so the request and the job never send one twice
 * at once. A failure waits 1, 2, 4 ... up to 60 minutes; a message unsent a day after it was written is
 * given up (`gave_up_at`, `last_error` and a warning in the log). Logs name a message by id and kind, never
 * its address or body.
 */

const LEASE_SECONDS = 300;
const GIVE_UP_AFTER = sql`interval '1 day'`;
const BATCH = 50;

const due = and(
  isNull(mailOutbox.sentAt),
  isNull(mailOutbox.gaveUpAt),
  lte(mailOutbox.nextAttemptAt, sql`now()`),
  sql`${mailOutbox.createdAt} >= now() - ${GIVE_UP_AFTER}`,
);

/** Claims up to `batch` due messages (only those of `ids`, when a request sends its own). */
const CLAIM_MAIL = statementFamily(
  'claim_mail',
  { only: FLAG },
  slots<{ ids: string; batch: number }>(),
  (db, shape, $) => {
    const claimable = db
      .select({ id: mailOutbox.id })
      .from(mailOutbox)
      .where(
        and(
          due,
          shape.only
            ? inArray(mailOutbox.id, sql`(select jsonb_array_elements_text(${$.ids}::jsonb)::bigint)`)
            : undefined,
        ),
      )
      .orderBy(asc(mailOutbox.nextAttemptAt))
      .limit($.batch)
      .for('update', { skipLocked: true });
    return db
      .update(mailOutbox)
      .set({
        attempts: sql`${mailOutbox.attempts} + 1`,
        nextAttemptAt: sql`now() + make_interval(secs => ${sql.raw(String(LEASE_SECONDS))})`,
      })
      .where(inArray(mailOutbox.id, claimable))
      .returning({
        id: mailOutbox.id,
        kind: mailOutbox.kind,
        recipient: mailOutbox.recipient,
        subject: mailOutbox.subject,
        text: mailOutbox.textBody,
        html: mailOutbox.htmlBody,
      });
  },
);

/**
 * Sent: the binding's message id kept. Outside development and tests the bodies are emptied once sent, so
 * no usable token rests in the database beside its digest.
 */
const MAIL_SENT = statementFamily(
  'mail_sent',
  { keepBody: FLAG },
  slots<{ id: number; messageId: string }>(),
  (db, shape, $) =>
    db
      .update(mailOutbox)
      .set({
        sentAt: sql`now()`,
        messageId: sql`${$.messageId}::text`,
        lastError: null,
        ...(shape.keepBody ? {} : { textBody: '', htmlBody: '' }),
      })
      .where(eq(mailOutbox.id, $.id)),
);

/** Failed: the next attempt after the backoff, or given up once the message is a day old. */
const MAIL_FAILED = statement('mail_failed', slots<{ id: number; error: string }>(), (db, $) =>
  db
    .update(mailOutbox)
    .set({
      lastError: sql`${$.error}::text`,
      nextAttemptAt: sql`now() + make_interval(secs => least(60 * power(2, least(${mailOutbox.attempts} - 1, 6)), 3600))`,
      gaveUpAt: sql`case when ${mailOutbox.createdAt} < now() - ${GIVE_UP_AFTER} then now() end`,
    })
    .where(eq(mailOutbox.id, $.id)),
);

/** Messages that no attempt sent within a day: given up, recorded on the row and in the log. */
const GIVE_UP_MAIL = statementFamily('give_up_mail', { keepBody: FLAG }, slots<{ batch: number }>(), (db, shape, $) =>
  db
    .update(mailOutbox)
    .set({
      gaveUpAt: sql`now()`,
      lastError: sql`coalesce(${mailOutbox.lastError}, 'not sent within a day')`,
      ...(shape.keepBody ? {} : { textBody: '', htmlBody: '' }),
    })
    .where(
      inArray(
        mailOutbox.id,
        db
          .select({ id: mailOutbox.id })
          .from(mailOutbox)
          .where(
            and(
              isNull(mailOutbox.sentAt),
              isNull(mailOutbox.gaveUpAt),
              lt(mailOutbox.createdAt, sql`now() - ${GIVE_UP_AFTER}`),
            ),
          )
          .limit($.batch),
      ),
    )
    .returning({ id: mailOutbox.id, kind: mailOutbox.kind, attempts: mailOutbox.attempts }),
);

const keepsBodies = (config: AppConfig) => config.appEnv !== 'production';

/** Sends the claimed messages one after another; each outcome is written as it comes. */
export async function deliverMail(
  db: Database,
  sender: SendEmail,
  config: AppConfig,
  ids?: readonly number[],
): Promise<{ sent: number; failed: number }> {
  const claimed = await CLAIM_MAIL.on(db, { only: ids !== undefined }).execute({
    ids: JSON.stringify(ids ?? []),
    batch: BATCH,
  });
  let sent = 0;
  for (const message of claimed) {
    try {
      const { messageId } = await sender.send({
        from: config.mail.from.name
          ? { name: config.mail.from.name, email: config.mail.from.email }
          : config.mail.from.email,
        to: message.recipient,
        subject: message.subject,
        text: message.text,
        html: message.html,
      });
      await MAIL_SENT.on(db, { keepBody: keepsBodies(config) }).execute({ id: message.id, messageId });
      sent++;
    } catch (error) {
      const reason = error instanceof Error ? error.message : String(error);
      await MAIL_FAILED.on(db).execute({ id: message.id, error: reason.slice(0, 500) });
      writeLog('warn', {
        message: 'mail not sent; will retry',
        mail_id: message.id,
        kind: message.kind,
        error: describeError(error),
      });
    }
  }
  return { sent, failed: claimed.length - sent };
}

/** The Cron Trigger's part: give up what a day did not send, then send what is due. */
export async function retryMail(db: Database, sender: SendEmail | undefined, config: AppConfig) {
  const givenUp = await GIVE_UP_MAIL.on(db, { keepBody: keepsBodies(config) }).execute({ batch: 1000 });
  for (const message of givenUp) {
    writeLog('warn', { message: 'mail given up', mail_id: message.id, kind: message.kind, attempts: message.attempts });
  }
  const outcome = sender ? await deliverMail(db, sender, config) : { sent: 0, failed: 0 };
  return { ...outcome, givenUp: givenUp.length };
}

/**
 * Sends the messages a request wrote once its response has gone (`waitUntil`). Where there is no execution
 * context (an app driven directly in tests) or no mail binding (the benchmark's plain workerd), the Cron
 * Trigger sends them instead.
 */
export function sendAfterResponse(c: AppContext, ids: readonly number[]): void {
  const sender = c.env.EMAIL;
  if (ids.length === 0 || !sender) return;
  afterResponse(c, 'mail delivery', (db) => deliverMail(db, sender, c.get('config'), ids));
}
