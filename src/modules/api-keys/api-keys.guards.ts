import { and, eq, isNotNull, sql } from 'drizzle-orm';
import { liveApiKeys } from '../../db/fresh-counts.ts';
import { apiKeys } from '../../db/api-key-schema.ts';
import { guard, GuardedWrite } from '../../db/guards.ts';
import { projectMembers, projects, users } from '../../db/schema.ts';
import { slots } from '../../db/statements.ts';
import { callerGuards, callerIsAdmin } from '../../db/users.ts';
import { AppError, conflict, forbidden, notFound } from '../../lib/problem.ts';

/*
 * The rules of API keys, each declared once (db/guards.ts). A new key's facts lock the caller's users row and
 * count their keys afresh after the lock (db/fresh-counts.ts), so two creations at once count each other
 * against the cap; a revocation's lock the key.
 */

/** What a new key is executed with, besides the caller's values. */
export type NewKeyLimits = { wantsAdmin: boolean; projectIds: string | null; maxKeys: number };
const $ = slots<NewKeyLimits>();

/** How many of the named projects the caller can see (active, and a member or an admin). */
const visibleProjects = sql`(
  select count(*) from ${projects}
  where ${projects.id} = any(${$.projectIds}::uuid[]) and ${projects.deletedAt} is null
    and (${users.role} = 'admin' or exists (
      select 1 from ${projectMembers} where ${projectMembers.projectId} = ${projects.id} and ${projectMembers.userId} = ${users.id}
    ))
)`;

const invalid = (path: string, message: string) =>
  new AppError('validation_failed', 'the request failed validation', { errors: [{ path, message }] });

/** POST /auth/api-keys: no key beyond its owner, and at most `maxKeys` live ones. */
export const CREATE_KEY = new GuardedWrite(
  ...callerGuards(),
  guard('admin_scope_allowed', sql`(not ${$.wantsAdmin}::boolean or ${users.role} = 'admin')`, () =>
    invalid('body.scopes', 'the admin scope is only for admins'),
  ),
  // Which of them the caller cannot see is not said: that would tell whether a project exists.
  guard(
    'projects_visible',
    sql`(${$.projectIds}::uuid[] is null or ${visibleProjects} = cardinality(${$.projectIds}::uuid[]))`,
    () => invalid('body.project_ids', 'must name only projects the caller can see'),
  ),
  guard('below_key_limit', sql`${liveApiKeys(users.id)} < ${$.maxKeys}::int`, () =>
    conflict('api_key_limit_reached', 'the user has as many live API keys as allowed; revoke one first'),
  ),
);

const keyKnown = guard('key_known', isNotNull(apiKeys.id), () => notFound('API key'));

/** DELETE /auth/api-keys/{id}: one of the caller's own keys. */
export const REVOKE_OWN_KEY = new GuardedWrite(...callerGuards(), keyKnown);

/** DELETE /auth/admin/users/{id}/api-keys/{key_id}: an admin, and that user's key. */
export const REVOKE_ANY_KEY = new GuardedWrite(
  ...callerGuards(),
  guard('admin_override', callerIsAdmin, () => forbidden('role_required', 'this action requires the admin role')),
  keyKnown,
);

/** The key a revocation names: `id`, of user `owner`. */
export const namedKey = (id: unknown, owner: unknown) =>
  and(eq(apiKeys.id, sql`${id}::uuid`), eq(apiKeys.userId, sql`${owner}::uuid`))!;
