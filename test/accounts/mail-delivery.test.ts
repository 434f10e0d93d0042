import { createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { afterEach, beforeEach, describe, expect, it, vi, type MockInstance } from 'vitest';
import worker from '../../src/index.ts';
import { loadConfig } from '../../src/config.ts';
import type { Bindings } from '../../src/env.ts';
import { deliverMail } from '../../src/modules/mail/mail.delivery.ts';
import { withOwnDatabase } from '../../src/db/own-database.ts';
import { sql } from '../support/db.ts';
import { type OutboxRow } from '../support/mail.ts';
import { runningAs } from '../support/http.ts';

/*
 * The outbox's delivery through the real `send_email` bindings: `EMAIL` records what it is given, as
 * `wrangler dev` does; `EMAIL_REFUSING` (vitest.config.ts) allows one address only, so a send to any other
 * fails as a refused send does in production.
 */

const bindings = env as unknown as Bindings & { EMAIL: SendEmail; EMAIL_REFUSING: SendEmail };
const config = loadConfig(bindings);

let printed: MockInstance<typeof console.log>;
beforeEach(() => {
  printed = vi.spyOn(console, 'log').mockImplementation(() => {});
});
afterEach(() => printed.mockRestore());

async function queue(recipient = `mail-${crypto.randomUUID()}@example.com`, age = '0 seconds'): Promise<number> {
  const [row] =
    await sql()`insert into mail_outbox (kind, recipient, subject, text_body, html_body, created_at, next_attempt_at)
                            values ('password_reset', ${recipient}, 'Subject', 'text #token=abc', '<p>html</p>',
                                    now() - ${age}::interval, now() - ${age}::interval)
                            returning id`;
  return Number(row!.id);
}
const outbox = async (id: number) =>
  ((await sql()`select * from mail_outbox where id = ${id}`) as unknown as OutboxRow[])[0]!;
const deliver = (sender: SendEmail, ids?: number[], settings = config) =>
  withOwnDatabase(bindings, settings, (db) => deliverMail(db, sender, settings, ids));
const runCron = () =>
  worker.scheduled(createScheduledController({ cron: '*/5 * * * *', scheduledTime: Date.now() }), bindings);

describe('mail delivery', () => {
  it('sends through the binding, keeps its message id, and sends a message once', async () => {
    const id = await queue();
    expect(await deliver(bindings.EMAIL, [id])).toEqual({ sent: 1, failed: 0 });
    const sent = await outbox(id);
    expect(sent).toMatchObject({ attempts: 1, last_error: null, gave_up_at: null });
    expect(sent.sent_at).toBeInstanceOf(Date);
    expect(sent.message_id).toMatch(/@/);
    expect(await deliver(bindings.EMAIL, [id])).toEqual({ sent: 0, failed: 0 });
  });

  it('two senders racing for one message: one sends it', async () => {
    const id = await queue();
    const outcomes = await Promise.all([deliver(bindings.EMAIL, [id]), deliver(bindings.EMAIL, [id])]);
    expect(outcomes.map((outcome) => outcome.sent).sort()).toEqual([0, 1]);
    expect((await outbox(id)).attempts).toBe(1);
  });

  it('a failed send waits 1, 2, 4 ... minutes, and the Cron Trigger sends it once it is due', async () => {
    const id = await queue();
    expect(await deliver(bindings.EMAIL_REFUSING, [id])).toEqual({ sent: 0, failed: 1 });
    const failed = await outbox(id);
    expect(failed.sent_at).toBeNull();
    expect(failed.last_error).toMatch(/not allowed/);
    const [wait] =
      await sql()`select extract(epoch from next_attempt_at - now())::int as seconds from mail_outbox where id = ${id}`;
    expect(wait!.seconds).toBeGreaterThan(50);
    expect(wait!.seconds).toBeLessThanOrEqual(60);
    // Not due yet: the job leaves it.
    expect(await deliver(bindings.EMAIL, [id])).toEqual({ sent: 0, failed: 0 });
    await sql()`update mail_outbox set next_attempt_at = now() where id = ${id}`;
    await deliver(bindings.EMAIL_REFUSING, [id]);
    const [second] =
      await sql()`select extract(epoch from next_attempt_at - now())::int as seconds from mail_outbox where id = ${id}`;
    expect(second!.seconds).toBeGreaterThan(110);
    await sql()`update mail_outbox set next_attempt_at = now() where id = ${id}`;
    await runCron();
    const sent = await outbox(id);
    expect(sent.sent_at).toBeInstanceOf(Date);
    expect(sent.attempts).toBe(3);
  });

  it('gives up on a message a day old, recorded on the row and in the log', async () => {
    const id = await queue(undefined, '25 hours');
    await runCron();
    const given = await outbox(id);
    expect(given.sent_at).toBeNull();
    expect(given.gave_up_at).toBeInstanceOf(Date);
    expect(given.last_error).toBe('not sent within a day');
    const logged = printed.mock.calls.map(([line]) => JSON.parse(String(line)));
    expect(logged).toContainEqual(expect.objectContaining({ level: 'warn', message: 'mail given up', mail_id: id }));
    expect(JSON.stringify(logged)).not.toContain('#token=');
  });

  it('in production a sent message keeps no body (no usable token rests in the database)', async () => {
    const production = loadConfig({ ...bindings, ...runningAs('production') } as Bindings);
    const id = await queue();
    await deliver(bindings.EMAIL, [id], production);
    expect(await outbox(id)).toMatchObject({ text_body: '', html_body: '', subject: 'Subject' });
  });
});
