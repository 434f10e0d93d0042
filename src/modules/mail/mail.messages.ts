import { sql, type SQL, type SQLWrapper } from 'drizzle-orm';
import type { MailConfig } from '../../config.ts';

/*
 * The messages the API sends, each a plain-text part and an HTML part built from the same few pieces: a
 * greeting line, paragraphs, at most one action (a link for a person's browser, under APP_URL, and the API
 * call a client can make instead, under PUBLIC_URL), and a closing line. A token travels in the link's
 * fragment (`#token=...`), which browsers never send to a server, so it stays out of access logs and
 * Referer headers. Values only the database knows (a project's name) are left as `{{name}}` and filled in
 * by the statement that writes the outbox row (`filledIn`), escaped for the HTML part there.
 */

export type MailKind =
  | 'password_reset'
  | 'password_changed'
  | 'email_verify'
  | 'email_change_verify'
  | 'email_change_notice'
  | 'email_changed'
  | 'invitation';

export interface Message {
  kind: MailKind;
  subject: string;
  text: string;
  html: string;
}

interface Action {
  label: string;
  /** Path under APP_URL, with the token in the fragment. */
  page: string;
  token: string;
  /** The API call that does the same: method, path under PUBLIC_URL, and the JSON body. */
  api: { method: 'POST'; path: string; body: Record<string, string> };
}

interface Parts {
  kind: MailKind;
  subject: string;
  paragraphs: string[];
  action?: Action;
  /** Why the reader got this, and what to do if they did not ask for it. */
  footer: string;
}

const escapeHtml = (text: string) =>
  text.replace(/[&<>"']/g, (char) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[char]!);

/** `{{name}}` markers stay as they are in both parts, for the statement to fill in. */
function compose(config: MailConfig, parts: Parts): Message {
  const link = parts.action ? `${config.appUrl}${parts.action.page}#token=${parts.action.token}` : undefined;
  const apiCall = parts.action
    ? `${parts.action.api.method} ${config.apiUrl}${parts.action.api.path} ${JSON.stringify(parts.action.api.body)}`
    : undefined;
  const text = [
    ...parts.paragraphs,
    ...(parts.action ? [`${parts.action.label}: ${link}`, `Or call the API: ${apiCall}`] : []),
    parts.footer,
    '— AegisFlow',
  ].join('\n\n');
  const html = [
    '<!doctype html><html><body style="font-family: sans-serif; line-height: 1.5">',
    ...parts.paragraphs.map((paragraph) => `<p>${escapeHtml(paragraph)}</p>`),
    ...(parts.action
      ? [
          `<p><a href="${escapeHtml(link!)}">${escapeHtml(parts.action.label)}</a></p>`,
          `<p style="color: #555">Or call the API: <code>${escapeHtml(apiCall!)}</code></p>`,
        ]
      : []),
    `<p style="color: #555">${escapeHtml(parts.footer)}</p>`,
    '<p>— AegisFlow</p></body></html>',
  ].join('\n');
  return { kind: parts.kind, subject: parts.subject, text, html };
}

const notYou = 'If you did not ask for this, ignore this message: nothing changes until the link is used.';

export const passwordResetMessage = (config: MailConfig, token: string, minutes: number) =>
  compose(config, {
    kind: 'password_reset',
    subject: 'Reset your AegisFlow password',
    paragraphs: [
      'Someone asked to reset the password of the AegisFlow account that uses this address.',
      `The link works once, for ${minutes} minutes; asking again makes a new one.`,
    ],
    action: {
      label: 'Choose a new password',
      page: '/reset-password',
      token,
      api: { method: 'POST', path: '/auth/password/reset', body: { token, new_password: '...' } },
    },
    footer: notYou,
  });

export const passwordChangedMessage = (config: MailConfig) =>
  compose(config, {
    kind: 'password_changed',
    subject: 'Your AegisFlow password was reset',
    paragraphs: [
      'The password of your AegisFlow account was just reset, and every session signed in with the old one has ended.',
    ],
    footer: `If this was not you, reset the password again at once (${config.appUrl}/forgot-password) and tell your administrator.`,
  });

export const verificationMessage = (config: MailConfig, token: string, hours: number) =>
  compose(config, {
    kind: 'email_verify',
    subject: 'Confirm your email address for AegisFlow',
    paragraphs: [
      'Confirm that this address belongs to your new AegisFlow account.',
      `The link works for ${hours} hours.`,
    ],
    action: {
      label: 'Confirm this address',
      page: '/verify-email',
      token,
      api: { method: 'POST', path: '/auth/email/verify', body: { token } },
    },
    footer: 'If you did not sign up for AegisFlow, ignore this message.',
  });

export const emailChangeMessage = (config: MailConfig, token: string, hours: number) =>
  compose(config, {
    kind: 'email_change_verify',
    subject: 'Confirm your new email address for AegisFlow',
    paragraphs: [
      'Someone asked to move an AegisFlow account to this address. It moves when the address is confirmed.',
      `The link works for ${hours} hours.`,
    ],
    action: {
      label: 'Confirm this address',
      page: '/verify-email',
      token,
      api: { method: 'POST', path: '/auth/email/verify', body: { token } },
    },
    footer: notYou,
  });

/** To the old address, when a change to `newEmail` is asked for. */
export const emailChangeNotice = (config: MailConfig, newEmail: string) =>
  compose(config, {
    kind: 'email_change_notice',
    subject: 'Your AegisFlow email address is about to change',
    paragraphs: [
      `Someone signed in to your AegisFlow account asked to change its address to ${newEmail}. It changes only once that address is confirmed.`,
    ],
    footer: `If this was not you, change your password now (${config.appUrl}/forgot-password): that cancels the change.`,
  });

/** To the old address, once the change is confirmed; `{{new_email}}` is filled in by the statement. */
export const emailChangedMessage = (config: MailConfig) =>
  compose(config, {
    kind: 'email_changed',
    subject: 'Your AegisFlow email address was changed',
    paragraphs: ['Your AegisFlow account now uses the address {{new_email}}; this address no longer signs in.'],
    footer: 'If this was not you, tell your administrator at once.',
  });

/** `{{project}}` and `{{inviter}}` are filled in by the statement that writes the invitation. */
export const invitationMessage = (config: MailConfig, token: string, days: number) =>
  compose(config, {
    kind: 'invitation',
    subject: 'You are invited to {{project}} on AegisFlow',
    paragraphs: [
      '{{inviter}} invites you to join the project {{project}} on AegisFlow as {{role}}.',
      `Accept while signed in with this address (or sign up with it from the link). The invitation works for ${days} days.`,
    ],
    action: {
      label: 'Accept the invitation',
      page: '/invitations/accept',
      token,
      api: { method: 'POST', path: '/invitations/accept', body: { token } },
    },
    footer: 'If you do not know the sender, ignore this message.',
  });

/** The SQL expression of `html` text escaped as `escapeHtml` escapes it. */
const htmlEscaped = (value: SQLWrapper) =>
  sql`replace(replace(replace(replace(replace(${value}, '&', '&amp;'), '<', '&lt;'), '>', '&gt;'), '"', '&quot;'), '''', '&#39;')`;

/**
 * A message part whose `{{name}}` markers are replaced, in SQL, by `values` (expressions over the rows the
 * statement writes), escaped for HTML in the HTML part.
 */
export function filledIn(part: SQLWrapper, values: Record<string, SQLWrapper>, html: boolean): SQL {
  let filled: SQL = sql`${part}`;
  for (const [name, value] of Object.entries(values)) {
    filled = sql`replace(${filled}, ${sql.raw(`'{{${name}}}'`)}, ${html ? htmlEscaped(value) : sql`${value}`})`;
  }
  return filled;
}
