import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import { mailOutbox } from '../../db/account-schema.ts';
import type { Slots } from '../../db/statements.ts';
import { filledIn, type Message } from './mail.messages.ts';

/*
 * The write side of the outbox: a message is an outbox row written by the statement that makes the change
 * it is about (a CTE of it), so a crash between the change and the send loses no mail, and a refused
 * change writes none. The message itself is composed in the worker and passed as placeholder values; a
 * statement that writes two messages gives each its own slot name (`mail`, `notice`).
 */

type MailFields = 'Kind' | 'Subject' | 'Text' | 'Html';
/** The placeholder values of one message in slot `S`: `mailKind`, `mailSubject`, ... */
export type MailValues<S extends string> = { [Field in MailFields as `${S}${Field}`]: string };

export const mailValues = <S extends string>(slot: S, message: Message): MailValues<S> =>
  ({
    [`${slot}Kind`]: message.kind,
    [`${slot}Subject`]: message.subject,
    [`${slot}Text`]: message.text,
    [`${slot}Html`]: message.html,
  }) as MailValues<S>;

export interface OutboxRows {
  /** The rows the messages are about (a CTE or a select): one message each. */
  from: SQLWrapper;
  /** The address, an expression over `from`. */
  recipient: SQLWrapper;
  /** Values for the message's `{{name}}` markers, expressions over `from`. */
  fill?: Record<string, SQLWrapper>;
}

/**
 * One outbox row per row of `rows.from`, as the body of a CTE that returns the new rows' `id`:
 * `db.$with('mail', { id: sql<number>`id` }).as(outboxOf($, 'mail', {...}))`.
 */
export function outboxOf<S extends string>($: Slots<MailValues<S>>, slot: S, rows: OutboxRows): SQL {
  const value = (field: MailFields) => ($ as unknown as Record<string, SQLWrapper>)[`${slot}${field}`]!;
  const fill = rows.fill ?? {};
  return sql`insert into ${mailOutbox} (kind, recipient, subject, text_body, html_body)
    select
      ${value('Kind')}::text,
      ${rows.recipient},
      ${filledIn(sql`${value('Subject')}::text`, fill, false)},
      ${filledIn(sql`${value('Text')}::text`, fill, false)},
      ${filledIn(sql`${value('Html')}::text`, fill, true)}
    from ${rows.from}
    returning id`;
}

/** The selection of an outbox CTE: `db.$with('mail', outboxIdColumn).as(outboxOf(...))`. */
export const outboxIdColumn = { id: sql<number>`id`.as('id') };

/** The ids of the outbox rows a statement wrote (`written`, the CTEs), for sending after the response. */
export const outboxIds = (...written: { id: SQLWrapper }[]) =>
  sql<number[]>`(select coalesce(jsonb_agg(outbox.id), '[]'::jsonb) from (${sql.join(
    written.map((cte) => sql`select ${cte.id} as id from ${cte}`),
    sql` union all `,
  )}) as outbox)`;
