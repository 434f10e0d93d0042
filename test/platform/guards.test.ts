import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { GuardedWrite } from '../../src/db/guards.ts';
import type { ProblemCode } from '../../src/lib/problem-codes.ts';
import { OWN_ACCOUNT } from '../../src/db/users.ts';
import { ADD, CHANGE_ROLE, REMOVE } from '../../src/modules/members/members.guards.ts';
import { trustedCaller } from '../../src/lib/actor.ts';
import { REVOKE_OWN_SESSION } from '../../src/modules/sessions/sessions.service.ts';
import { CREATE, DELETE, RESTORE as RESTORE_PROJECT, UPDATE } from '../../src/modules/projects/projects.guards.ts';
import {
  CREATE_IN_FIRST_STATE,
  CREATE_IN_STATE,
  EDIT,
  EDIT_ASSIGNING,
  RESTORE,
  TRANSITION,
} from '../../src/modules/tasks/tasks.guards.ts';
import { env } from 'cloudflare:workers';
import { RESEND, RESET, VERIFY } from '../../src/modules/accounts/accounts.guards.ts';
import { ACCEPT_BY_ID, ACCEPT_BY_TOKEN, INVITE, WITHDRAW } from '../../src/modules/invitations/invitations.guards.ts';
import { addMember } from '../../src/modules/members/members.service.ts';
import { SIGNUP_INVITED } from '../../src/modules/users/users.service.ts';
import { CREATE_KEY, REVOKE_ANY_KEY, REVOKE_OWN_KEY } from '../../src/modules/api-keys/api-keys.guards.ts';
import { createApiKey } from '../../src/modules/api-keys/api-keys.service.ts';
import type { CreateApiKeyInput } from '../../src/modules/api-keys/api-keys.schemas.ts';
import type { AppConfig } from '../../src/config.ts';
import { createDatabase, type Database } from '../../src/db/client.ts';
import { trafficTiming } from '../../src/db/traffic.ts';
import { AppError, problemResponse } from '../../src/lib/problem.ts';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem, parse, type ApiResponse } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask, statesOf } from '../support/tasks.ts';
import { createUser, PASSWORD, uniqueEmail, type TestUser } from '../support/users.ts';

/*
 * Every guarded write (db/guards.ts), each of its guards made to fail in turn (every guard before it
 * holding): the refusal is that guard's own status and code, and costs the one statement the write costs.
 * The cases are keyed by guard name and checked against the declarations, so a guard added without a case
 * here fails this test.
 */

interface World {
  /** Demoted again after the file: the suite shares "the last active admin". */
  admin: TestUser;
  owner: TestUser;
  manager: TestUser;
  editor: TestUser;
  viewer: TestUser;
  outsider: TestUser;
  /** Signed in, then their token's epoch passed (as logout-all does). */
  revoked: TestUser;
  /** Deactivated in the database without their epoch moving, so only `caller_active` can tell. */
  inactive: TestUser;
  projectId: string;
  deletedProjectId: string;
  /** A project whose workflow has no unstarted or backlog state (written directly: the API refuses it). */
  startlessProjectId: string;
  /** A project allowing no moves at all, and a task in it. */
  restrictedTaskId: string;
  taskId: string;
  deletedTaskId: string;
  stateIds: Record<string, string>;
  foreignStateId: string;
  /** A project of 1,000 members (written directly), for the member cap. */
  fullProjectId: string;
  /** Verified addresses: the invitee of the invitations below, and an editor of the project. */
  verified: TestUser;
  /** Three verification messages this hour already. */
  chatty: TestUser;
  /** Fifty invitations this hour already, and a project of their own. */
  busy: TestUser;
  busyProjectId: string;
  /** A project with 100 pending invitations. */
  invitedOutProjectId: string;
  /** Invitations (token and id) to `verified` unless named otherwise, each failing one accept guard. */
  invitations: Record<
    'pending' | 'toUnverified' | 'inDeletedProject' | 'toMember' | 'inFullProject' | 'expired',
    Invited
  >;
  /** An email change of `verified` to the owner's address. */
  changeToTakenToken: string;
  /** An API key of `verified`, limited to a project of their own (not the invitations' ones). */
  limitedKey: string;
}

interface Invited {
  id: string;
  token: string;
}

let w: World;
let unverifiedInviteeToken: string;

beforeAll(async () => {
  const [owner, manager, editor, viewer, outsider, revoked, inactive] = await Promise.all(
    ['owner', 'manager', 'editor', 'viewer', 'outsider', 'revoked', 'inactive'].map((label) => createUser({ label })),
  );
  await sql()`update users set token_epoch = token_epoch + 1 where id = ${revoked!.id}`;
  await sql()`update users set is_active = false where id = ${inactive!.id}`;
  const project = await createProjectWithMembers(owner!, [
    [manager!, 'manager'],
    [editor!, 'editor'],
    [viewer!, 'viewer'],
  ]);
  const states = await statesOf(owner!, project.id);
  const taskId = (await createTask(owner!, project.id)).id;
  const deletedTaskId = (await createTask(owner!, project.id)).id;
  expect((await call('DELETE', `/tasks/${deletedTaskId}`, { token: owner!.token })).status).toBeLessThan(300);

  const deleted = await createProjectWithMembers(owner!);
  expect((await call('DELETE', `/projects/${deleted.id}`, { token: owner!.token })).status).toBeLessThan(300);

  const startless = await createProjectWithMembers(owner!);
  await sql()`update workflow_states set category = 'started'
              where project_id = ${startless.id} and category in ('unstarted', 'backlog')`;

  const restricted = await createProjectWithMembers(owner!);
  const restrictedTaskId = (await createTask(owner!, restricted.id)).id;
  const locked = await call('PUT', `/projects/${restricted.id}/transitions`, { token: owner!.token, json: [] });
  expect(locked.status).toBe(200);
  const foreignStateId = Object.values(await statesOf(owner!, restricted.id))[0]!.id;

  const full = await createProjectWithMembers(owner!);
  const prefix = uniqueEmail('crowd').replace('@', '-');
  await sql()`with crowd as (
                insert into users (email, password_hash)
                select ${prefix} || n || '@example.com', 'x' from generate_series(1, 999) as n returning id
              )
              insert into project_members (project_id, user_id, role, project_created_at, added_at, added_by)
              select ${full.id}, crowd.id, 'viewer', p.created_at, now(), ${owner!.id}
              from crowd cross join projects p where p.id = ${full.id}`;

  const admin = await createUser({ role: 'admin' });
  const [verified, chatty, busy, unverifiedInvitee] = await Promise.all(
    ['verified', 'chatty', 'busy', 'unverified'].map((label) => createUser({ label })),
  );
  await sql()`update users set email_verified_at = now() where id in (${verified!.id}, ${editor!.id})`;
  await sql()`insert into account_tokens (user_id, kind, token_hash, email, token_epoch, expires_at)
              select ${chatty!.id}, 'email_verify', md5(random()::text || n), ${chatty!.email}, 0, now() + interval '1 day'
              from generate_series(1, 2) as n`;
  const busyProject = await createProjectWithMembers(busy!);
  await sql()`insert into audit_events (actor_id, action, entity_type, entity_id, changes)
              select ${busy!.id}, 'invitation.create', 'invitation', gen_random_uuid(), '{}'::jsonb from generate_series(1, 50)`;
  const invitedOut = await createProjectWithMembers(owner!);
  await sql()`insert into invitations (project_id, email, role, token_hash, expires_at)
              select ${invitedOut.id}, 'out-' || n || '@example.com', 'viewer', md5(random()::text || n), now() + interval '1 day'
              from generate_series(1, 100) as n`;
  const invitation = async (projectId: string, email: string, expired = false): Promise<Invited> => {
    const token = crypto.randomUUID();
    const [row] = await sql()`insert into invitations (project_id, email, role, invited_by, token_hash, expires_at)
                              values (${projectId}, ${email}, 'viewer', ${owner!.id},
                                      encode(sha256(convert_to(${token}, 'UTF8')), 'hex'),
                                      now() + ${expired ? '-1 second' : '1 day'}::interval)
                              returning id`;
    return { id: row!.id, token };
  };
  const invitations = {
    pending: await invitation(project.id, verified!.email),
    toUnverified: await invitation(project.id, unverifiedInvitee!.email),
    inDeletedProject: await invitation(deleted.id, verified!.email),
    toMember: await invitation(project.id, editor!.email),
    inFullProject: await invitation(full.id, verified!.email),
    expired: await invitation(invitedOut.id, verified!.email, true),
  };
  const changeToTakenToken = crypto.randomUUID();
  await sql()`insert into account_tokens (user_id, kind, token_hash, email, token_epoch, expires_at)
              values (${verified!.id}, 'email_change', encode(sha256(convert_to(${changeToTakenToken}, 'UTF8')), 'hex'),
                      ${owner!.email}, 0, now() + interval '1 day')`;
  unverifiedInviteeToken = unverifiedInvitee!.token;
  const ownProject = await createProjectWithMembers(verified!);
  const limited = await call('POST', '/auth/api-keys', {
    token: verified!.token,
    json: {
      name: 'limited',
      scopes: ['members:write'],
      project_ids: [ownProject.id],
      expires_at: new Date(Date.now() + 86_400_000).toISOString(),
    },
  });
  expect(limited.status).toBe(201);

  w = {
    admin,
    verified: verified!,
    chatty: chatty!,
    busy: busy!,
    busyProjectId: busyProject.id,
    invitedOutProjectId: invitedOut.id,
    invitations,
    changeToTakenToken,
    limitedKey: limited.body.key,
    owner: owner!,
    manager: manager!,
    editor: editor!,
    viewer: viewer!,
    outsider: outsider!,
    revoked: revoked!,
    inactive: inactive!,
    projectId: project.id,
    deletedProjectId: deleted.id,
    startlessProjectId: startless.id,
    restrictedTaskId,
    taskId,
    deletedTaskId,
    stateIds: Object.fromEntries(Object.entries(states).map(([name, state]) => [name, state.id])),
    foreignStateId,
    fullProjectId: full.id,
  };
});

afterAll(async () => {
  await sql()`update users set role = 'user' where id = ${w.admin.id}`;
});

type Send = (as: TestUser, headers?: Record<string, string>) => Promise<ApiResponse>;
/** How to make one guard fail: who sends, what, and the refusal expected (in one statement unless said). */
type Case = [send: () => Promise<ApiResponse>, status: number, code: ProblemCode, statements?: number];

/**
 * A write's refusal through its service, for a guard no HTTP request reaches (its route sends only the callers
 * who pass it there): the problem as the API would render it, with the statements the write took.
 */
async function throughService(work: (db: Database) => Promise<unknown>): Promise<ApiResponse> {
  const database = createDatabase(env.HYPERDRIVE.connectionString, 2);
  const error = await database
    .run(() => work(database.db))
    .then(
      () => new Error('the write was not refused'),
      (refusal: unknown) => refusal,
    );
  if (!(error instanceof AppError)) throw error;
  const response = problemResponse(error, crypto.randomUUID());
  response.headers.set('Server-Timing', trafficTiming(database.traffic()));
  return parse(response);
}

/** The two caller guards every write starts with, for a request `send`. */
const callerCases = (send: Send): Record<string, Case> => ({
  caller_known: [() => send(w.revoked), 401, 'token_invalid'],
  caller_active: [() => send(w.inactive), 403, 'account_inactive'],
});
const stale = { 'If-Match': '"999"' };

const keyBody = (change: Record<string, unknown> = {}) => ({
  name: 'guarded',
  scopes: ['tasks:read'],
  expires_at: new Date(Date.now() + 86_400_000).toISOString(),
  ...change,
});

const writes: [route: string, write: GuardedWrite<never>, cases: () => Record<string, Case>][] = [
  [
    'POST /auth/api-keys',
    CREATE_KEY,
    () => {
      const send = (as: TestUser, change?: Record<string, unknown>) =>
        call('POST', '/auth/api-keys', { token: as.token, json: keyBody(change) });
      return {
        ...callerCases((as) => send(as)),
        admin_scope_allowed: [() => send(w.owner, { scopes: ['admin'] }), 422, 'validation_failed'],
        projects_visible: [() => send(w.outsider, { project_ids: [w.projectId] }), 422, 'validation_failed'],
        // The cap's own refusal through the service, with a cap of none, rather than 50 keys made first.
        below_key_limit: [
          () =>
            throughService((db) =>
              createApiKey(
                db,
                trustedCaller(w.owner.id),
                keyBody() as CreateApiKeyInput,
                { maxApiKeys: 0 } as AppConfig,
              ),
            ),
          409,
          'api_key_limit_reached',
        ],
      };
    },
  ],
  [
    'DELETE /auth/api-keys/{id}',
    REVOKE_OWN_KEY,
    () => {
      const send: Send = (as) => call('DELETE', `/auth/api-keys/${crypto.randomUUID()}`, { token: as.token });
      return { ...callerCases(send), key_known: [() => send(w.owner), 404, 'not_found'] };
    },
  ],
  [
    'DELETE /auth/admin/users/{id}/api-keys/{key_id}',
    REVOKE_ANY_KEY,
    () => {
      const send: Send = (as) =>
        call('DELETE', `/auth/admin/users/${w.owner.id}/api-keys/${crypto.randomUUID()}`, { token: as.token });
      return {
        ...callerCases(send),
        admin_override: [() => send(w.owner), 403, 'role_required'],
        key_known: [() => send(w.admin), 404, 'not_found'],
      };
    },
  ],
  [
    'PATCH /auth/me',
    OWN_ACCOUNT,
    () => callerCases((as) => call('PATCH', '/auth/me', { token: as.token, json: { full_name: 'Refused' } })),
  ],
  [
    'POST /auth/logout-all',
    OWN_ACCOUNT,
    () => callerCases((as) => call('POST', '/auth/logout-all', { token: as.token })),
  ],
  [
    'DELETE /auth/sessions/{id}',
    REVOKE_OWN_SESSION,
    () => {
      const send: Send = (as) => call('DELETE', `/auth/sessions/${crypto.randomUUID()}`, { token: as.token });
      return { ...callerCases(send), session_known: [() => send(w.outsider), 404, 'not_found'] };
    },
  ],
  [
    'POST /projects',
    CREATE,
    () => callerCases((as) => call('POST', '/projects', { token: as.token, json: { name: 'Refused' } })),
  ],
  [
    'PATCH /projects/{id}',
    UPDATE,
    () => {
      const send: Send = (as, headers) =>
        call('PATCH', `/projects/${w.projectId}`, { token: as.token, headers, json: { description: 'no' } });
      return {
        ...callerCases(send),
        project_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [() => send(w.editor), 403, 'project_role_required'],
        version_matches: [() => send(w.manager, stale), 412, 'precondition_failed'],
      };
    },
  ],
  [
    'DELETE /projects/{id}',
    DELETE,
    () => {
      const send: Send = (as, headers) => call('DELETE', `/projects/${w.projectId}`, { token: as.token, headers });
      return {
        ...callerCases(send),
        project_known: [
          () => call('DELETE', `/projects/${w.deletedProjectId}`, { token: w.owner.token }),
          404,
          'not_found',
        ],
        role_allows: [() => send(w.manager), 403, 'project_role_required'],
        version_matches: [() => send(w.owner, stale), 412, 'precondition_failed'],
      };
    },
  ],
  [
    'POST /projects/{id}/restore',
    RESTORE_PROJECT,
    () => {
      const send: Send = (as, headers) =>
        call('POST', `/projects/${w.deletedProjectId}/restore`, { token: as.token, headers });
      return {
        ...callerCases(send),
        project_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [
          () => call('POST', `/projects/${w.projectId}/restore`, { token: w.manager.token }),
          403,
          'project_role_required',
        ],
        project_deleted: [
          () => call('POST', `/projects/${w.projectId}/restore`, { token: w.owner.token }),
          409,
          'not_deleted',
        ],
        version_matches: [() => send(w.owner, stale), 412, 'precondition_failed'],
      };
    },
  ],
  ...(['first state', 'named state'] as const).map(
    (start): [string, GuardedWrite<never>, () => Record<string, Case>] => [
      `POST /projects/{id}/tasks (${start})`,
      start === 'first state' ? CREATE_IN_FIRST_STATE : CREATE_IN_STATE,
      () => {
        const body = (extra: object = {}) => ({
          title: 'Refused',
          priority: 'low',
          ...(start === 'named state' ? { state_id: w.stateIds['To do'] } : {}),
          ...extra,
        });
        const send: Send = (as) => call('POST', `/projects/${w.projectId}/tasks`, { token: as.token, json: body() });
        return {
          ...callerCases(send),
          project_known: [() => send(w.outsider), 404, 'not_found'],
          role_allows: [() => send(w.viewer), 403, 'project_role_required'],
          start_state_known:
            start === 'first state'
              ? [
                  () => call('POST', `/projects/${w.startlessProjectId}/tasks`, { token: w.owner.token, json: body() }),
                  409,
                  'workflow_incomplete',
                ]
              : [
                  () =>
                    call('POST', `/projects/${w.projectId}/tasks`, {
                      token: w.editor.token,
                      json: body({ state_id: w.foreignStateId }),
                    }),
                  422,
                  'validation_failed',
                ],
          assignee_member: [
            () =>
              call('POST', `/projects/${w.projectId}/tasks`, {
                token: w.editor.token,
                json: body({ assignee_id: w.outsider.id }),
              }),
            422,
            'validation_failed',
          ],
        };
      },
    ],
  ),
  ...(
    [
      ['PATCH /tasks/{id}', EDIT, 'PATCH', { title: 'Refused' }],
      ['DELETE /tasks/{id}', EDIT, 'DELETE', undefined],
      ['PATCH /tasks/{id} (assignee)', EDIT_ASSIGNING, 'PATCH', { assignee_id: null }],
    ] as const
  ).map(([route, write, method, body]): [string, GuardedWrite<never>, () => Record<string, Case>] => [
    route,
    write,
    () => {
      const sendTo = (id: string, as: TestUser, headers?: Record<string, string>, json?: object) =>
        call(method, `/tasks/${id}`, { token: as.token, headers, json: json ?? body });
      const send: Send = (as, headers) => sendTo(w.taskId, as, headers);
      return {
        ...callerCases(send),
        task_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [() => send(w.viewer), 403, 'project_role_required'],
        task_active: [() => sendTo(w.deletedTaskId, w.editor), 404, 'not_found'],
        version_matches: [() => send(w.editor, stale), 412, 'precondition_failed'],
        ...(write === EDIT_ASSIGNING
          ? {
              assignee_member: [
                () => sendTo(w.taskId, w.editor, undefined, { assignee_id: w.outsider.id }),
                422,
                'validation_failed',
              ] as Case,
            }
          : {}),
      };
    },
  ]),
  [
    'POST /tasks/{id}/restore',
    RESTORE,
    () => {
      const send: Send = (as, headers) =>
        call('POST', `/tasks/${w.deletedTaskId}/restore`, { token: as.token, headers });
      return {
        ...callerCases(send),
        task_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [() => send(w.viewer), 403, 'project_role_required'],
        task_deleted: [() => call('POST', `/tasks/${w.taskId}/restore`, { token: w.editor.token }), 409, 'not_deleted'],
        version_matches: [() => send(w.editor, stale), 412, 'precondition_failed'],
      };
    },
  ],
  [
    'POST /tasks/{id}/transition',
    TRANSITION,
    () => {
      const moveTo = (taskId: string, stateId: string, as: TestUser, headers?: Record<string, string>) =>
        call('POST', `/tasks/${taskId}/transition`, { token: as.token, headers, json: { to_state_id: stateId } });
      const send: Send = (as, headers) => moveTo(w.taskId, w.stateIds['Done']!, as, headers);
      return {
        ...callerCases(send),
        task_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [() => send(w.viewer), 403, 'project_role_required'],
        task_active: [() => moveTo(w.deletedTaskId, w.stateIds['Done']!, w.editor), 404, 'not_found'],
        target_known: [() => moveTo(w.taskId, w.foreignStateId, w.editor), 422, 'validation_failed'],
        target_differs: [() => moveTo(w.taskId, w.stateIds['To do']!, w.editor), 409, 'already_in_state'],
        version_matches: [() => send(w.editor, stale), 412, 'precondition_failed'],
        transition_allowed: [
          async () => {
            const states = await statesOf(w.owner, (await taskProject(w.restrictedTaskId))!);
            return moveTo(w.restrictedTaskId, states['Done']!.id, w.owner);
          },
          409,
          'transition_not_allowed',
        ],
      };
    },
  ],
  [
    'POST /projects/{id}/members (admins)',
    ADD,
    () => {
      // The caller's row decides between adding (admins) and inviting: a statement before the write.
      const add = (as: TestUser, email: string, projectId = w.projectId) =>
        call('POST', `/projects/${projectId}/members`, { token: as.token, json: { email, role: 'viewer' } });
      const send: Send = (as) => add(as, w.outsider.email);
      return {
        ...callerCases(send),
        admin_override: [
          () =>
            throughService((db) =>
              addMember(db, trustedCaller(w.manager.id), w.projectId, { email: w.outsider.email, role: 'viewer' }),
            ),
          403,
          'role_required',
        ],
        project_known: [() => add(w.admin, w.outsider.email, w.deletedProjectId), 404, 'not_found', 2],
        user_known: [() => add(w.admin, uniqueEmail('nobody')), 404, 'not_found', 2],
        not_self: [() => add(w.admin, w.admin.email), 409, 'self_membership', 2],
        not_owner: [() => add(w.admin, w.owner.email), 409, 'already_member', 2],
        not_member: [() => add(w.admin, w.editor.email), 409, 'already_member', 2],
        below_member_limit: [() => add(w.admin, w.outsider.email, w.fullProjectId), 409, 'member_limit_reached', 2],
      };
    },
  ],
  [
    'POST /projects/{id}/invitations',
    INVITE,
    () => {
      const invite = (as: TestUser, email: string, projectId = w.projectId) =>
        call('POST', `/projects/${projectId}/invitations`, { token: as.token, json: { email, role: 'viewer' } });
      const send: Send = (as) => invite(as, uniqueEmail('invited'));
      return {
        ...callerCases(send),
        project_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [() => send(w.editor), 403, 'project_role_required'],
        not_member: [() => invite(w.manager, w.editor.email), 409, 'already_member'],
        below_pending_limit: [
          () => invite(w.owner, uniqueEmail(), w.invitedOutProjectId),
          409,
          'invitation_limit_reached',
        ],
        below_hourly_limit: [() => invite(w.busy, uniqueEmail(), w.busyProjectId), 429, 'rate_limited'],
      };
    },
  ],
  [
    'DELETE /projects/{id}/invitations/{invitation_id}',
    WITHDRAW,
    () => {
      const withdraw = (as: TestUser, invitationId: string) =>
        call('DELETE', `/projects/${w.projectId}/invitations/${invitationId}`, { token: as.token });
      const send: Send = (as) => withdraw(as, w.invitations.pending.id);
      return {
        ...callerCases(send),
        project_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [() => send(w.editor), 403, 'project_role_required'],
        invitation_known: [() => withdraw(w.manager, crypto.randomUUID()), 404, 'not_found'],
      };
    },
  ],
  [
    'POST /invitations/accept',
    ACCEPT_BY_TOKEN,
    () => {
      const accept = (token: string, invitationToken: string) =>
        call('POST', '/invitations/accept', { token, json: { token: invitationToken } });
      const send: Send = (as) => accept(as.token, w.invitations.pending.token);
      return {
        ...callerCases(send),
        invitation_usable: [() => accept(w.verified.token, w.invitations.expired.token), 400, 'invitation_invalid'],
        key_reaches_project: [() => accept(w.limitedKey, w.invitations.pending.token), 400, 'invitation_invalid'],
        addressed_to_caller: [() => send(w.outsider), 403, 'invitation_mismatch'],
        email_verified: [
          () => accept(unverifiedInviteeToken, w.invitations.toUnverified.token),
          403,
          'email_unverified',
        ],
        project_active: [() => accept(w.verified.token, w.invitations.inDeletedProject.token), 404, 'not_found'],
        not_member: [() => accept(w.editor.token, w.invitations.toMember.token), 409, 'already_member'],
        below_member_limit: [
          () => accept(w.verified.token, w.invitations.inFullProject.token),
          409,
          'member_limit_reached',
        ],
      };
    },
  ],
  [
    'POST /invitations/{id}/accept',
    ACCEPT_BY_ID,
    () => {
      const accept = (token: string, invitationId: string) =>
        call('POST', `/invitations/${invitationId}/accept`, { token });
      const send: Send = (as) => accept(as.token, w.invitations.pending.id);
      return {
        ...callerCases(send),
        invitation_known: [() => accept(w.verified.token, crypto.randomUUID()), 404, 'not_found'],
        key_reaches_project: [() => accept(w.limitedKey, w.invitations.pending.id), 404, 'not_found'],
        addressed_to_caller: [() => send(w.outsider), 403, 'invitation_mismatch'],
        invitation_pending: [() => accept(w.verified.token, w.invitations.expired.id), 409, 'invitation_not_pending'],
        email_verified: [() => accept(unverifiedInviteeToken, w.invitations.toUnverified.id), 403, 'email_unverified'],
        project_active: [() => accept(w.verified.token, w.invitations.inDeletedProject.id), 404, 'not_found'],
        not_member: [() => accept(w.editor.token, w.invitations.toMember.id), 409, 'already_member'],
        below_member_limit: [
          () => accept(w.verified.token, w.invitations.inFullProject.id),
          409,
          'member_limit_reached',
        ],
      };
    },
  ],
  [
    'POST /auth/signup (invitation_token)',
    SIGNUP_INVITED,
    () => {
      const signup = (email: string, invitationToken: string) =>
        call('POST', '/auth/signup', { json: { email, password: PASSWORD, invitation_token: invitationToken } });
      return {
        invitation_usable: [() => signup(uniqueEmail(), crypto.randomUUID()), 400, 'invitation_invalid'],
        addressed_here: [() => signup(uniqueEmail(), w.invitations.pending.token), 403, 'invitation_mismatch'],
      };
    },
  ],
  [
    'POST /auth/password/reset',
    RESET,
    () => ({
      token_usable: [
        () =>
          call('POST', '/auth/password/reset', {
            json: { token: crypto.randomUUID(), new_password: 'long enough phrase' },
          }),
        400,
        'reset_token_invalid',
      ],
    }),
  ],
  [
    'POST /auth/email/verify',
    VERIFY,
    () => {
      const verify = (token: string) => call('POST', '/auth/email/verify', { json: { token } });
      return {
        token_usable: [() => verify(crypto.randomUUID()), 400, 'verification_token_invalid'],
        email_free: [() => verify(w.changeToTakenToken), 409, 'email_taken'],
      };
    },
  ],
  [
    'POST /auth/email/verify/resend',
    RESEND,
    () => {
      const send: Send = (as) => call('POST', '/auth/email/verify/resend', { token: as.token });
      return {
        ...callerCases(send),
        unverified: [() => send(w.verified), 409, 'email_already_verified'],
        below_hourly_limit: [() => send(w.chatty), 429, 'rate_limited'],
      };
    },
  ],
  [
    'PATCH /projects/{id}/members/{user_id}',
    CHANGE_ROLE,
    () => {
      const change = (as: TestUser, userId: string) =>
        call('PATCH', `/projects/${w.projectId}/members/${userId}`, { token: as.token, json: { role: 'manager' } });
      const send: Send = (as) => change(as, w.viewer.id);
      return {
        ...callerCases(send),
        project_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [() => send(w.editor), 403, 'project_role_required'],
        not_self: [() => change(w.manager, w.manager.id), 409, 'self_membership'],
        member_known: [() => change(w.manager, w.outsider.id), 404, 'not_found'],
        not_owner: [() => change(w.manager, w.owner.id), 409, 'owner_immutable'],
      };
    },
  ],
  [
    'DELETE /projects/{id}/members/{user_id}',
    REMOVE,
    () => {
      const remove = (as: TestUser, userId: string) =>
        call('DELETE', `/projects/${w.projectId}/members/${userId}`, { token: as.token });
      const send: Send = (as) => remove(as, w.viewer.id);
      return {
        ...callerCases(send),
        project_known: [() => send(w.outsider), 404, 'not_found'],
        role_allows: [() => remove(w.editor, w.viewer.id), 403, 'project_role_required'],
        member_known: [() => remove(w.manager, w.outsider.id), 404, 'not_found'],
        not_owner: [() => remove(w.manager, w.owner.id), 409, 'owner_immutable'],
      };
    },
  ],
];

async function taskProject(taskId: string): Promise<string | undefined> {
  const [task] = await sql()`select project_id from tasks where id = ${taskId}`;
  return task?.project_id;
}

describe('guarded writes: every guard, failing, answers its own refusal in one statement', () => {
  describe.each(writes)('%s', (_route, write, cases) => {
    it('has a case for every guard it declares, in order', () => {
      expect(Object.keys(cases())).toEqual(write.guards.map((rule) => rule.name));
    });

    it.each(write.guards.map((rule) => rule.name))('%s', async (name) => {
      const [send, status, code, statements = 1] = cases()[name]!;
      const res = await send();
      expectProblem(res, status, code);
      expect(databaseTraffic(res)).toEqual({ statements, roundTrips: statements });
    });
  });
});
