import { expect } from 'vitest';
import { sql } from './db.ts';

/*
 * The outbox as the tests read it back (modules/mail): the messages the API wrote, with their bodies kept
 * outside production, and the tokens inside them.
 */

export interface OutboxRow {
  id: number;
  kind: string;
  recipient: string;
  subject: string;
  text_body: string;
  html_body: string;
  attempts: number;
  sent_at: Date | null;
  message_id: string | null;
  last_error: string | null;
  gave_up_at: Date | null;
  next_attempt_at: Date;
  created_at: Date;
}

/** Every message to `recipient` (of `kind`, if given), oldest first. */
export async function messagesTo(recipient: string, kind?: string): Promise<OutboxRow[]> {
  const rows = kind
    ? await sql()`select * from mail_outbox where recipient = ${recipient} and kind = ${kind} order by id`
    : await sql()`select * from mail_outbox where recipient = ${recipient} order by id`;
  return rows as unknown as OutboxRow[];
}

/** The token a message carries in its link (`#token=...`); the text and HTML parts carry the same one. */
export function tokenIn(message: OutboxRow): string {
  const token = /#token=([A-Za-z0-9_-]{43})\b/.exec(message.text_body)?.[1];
  if (!token) throw new Error(`no token in message ${message.id} (${message.kind})`);
  expect(message.html_body).toContain(`#token=${token}`);
  return token;
}

/** The token of the newest message of `kind` to `recipient`. */
export async function mailedToken(recipient: string, kind: string): Promise<string> {
  const messages = await messagesTo(recipient, kind);
  if (messages.length === 0) throw new Error(`no ${kind} message to ${recipient}`);
  return tokenIn(messages.at(-1)!);
}

/** Waits (up to 10 s) until the message has been handed to the mail binding after its response. */
export async function sentMessage(id: number): Promise<OutboxRow> {
  for (let tries = 0; tries < 200; tries++) {
    const [row] = (await sql()`select * from mail_outbox where id = ${id}`) as unknown as OutboxRow[];
    if (row?.sent_at) return row;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  throw new Error(`message ${id} was not sent`);
}
