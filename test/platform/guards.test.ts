import { beforeAll, describe, expect, it } from 'vitest';
import type { GuardedWrite } from '../../src/db/guards.ts';
import type { ProblemCode } from '../../src/lib/problem-codes.ts';
import { OWN_ACCOUNT } from '../../src/db/users.ts';
import { ADD, CHANGE_ROLE, REMOVE } from '../../src/modules/members/members.guards.ts';
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
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem, type ApiResponse } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask, statesOf } from '../support/tasks.ts';
import { createUser, uniqueEmail, type TestUser } from '../support/users.ts';

/*
 * Every guarded write (db/guards.ts), each of its guards made to fail in turn (every guard before it
 * holding): the refusal is that guard's own status and code, and costs the one statement the write costs.
 * The cases are keyed by guard name and checked against the declarations, so a guard added without a case
 * here fails this test.
 */

interface World {
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
}

let w: World;

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

  w = {
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

type Send = (as: TestUser, headers?: Record<string, string>) => Promise<ApiResponse>;
/** How to make one guard fail: who sends, what, and the refusal expected. */
type Case = [send: () => Promise<ApiResponse>, status: number, code: ProblemCode];

/** The two caller guards every write starts with, for a request `send`. */
const callerCases = (send: Send): Record<string, Case> => ({
  caller_known: [() => send(w.revoked), 401, 'token_invalid'],
  caller_active: [() => send(w.inactive), 403, 'account_inactive'],
});
const stale = { 'If-Match': '"999"' };

const writes: [route: string, write: GuardedWrite<never>, cases: () => Record<string, Case>][] = [
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
    'POST /projects/{id}/members',
    ADD,
    () => {
      const add = (as: TestUser, email: string, projectId = w.projectId) =>
        call('POST', `/projects/${projectId}/members`, { token: as.token, json: { email, role: 'viewer' } });
      const send: Send = (as) => add(as, w.outsider.email);
      return {
        ...callerCases(send),
        project_known: [() => add(w.owner, w.outsider.email, w.deletedProjectId), 404, 'not_found'],
        role_allows: [() => send(w.editor), 403, 'project_role_required'],
        user_known: [() => add(w.manager, uniqueEmail('nobody')), 404, 'not_found'],
        not_self: [() => add(w.manager, w.manager.email), 409, 'self_membership'],
        not_owner: [() => add(w.manager, w.owner.email), 409, 'already_member'],
        not_member: [() => add(w.manager, w.editor.email), 409, 'already_member'],
        below_member_limit: [() => add(w.owner, w.outsider.email, w.fullProjectId), 409, 'member_limit_reached'],
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
      const [send, status, code] = cases()[name]!;
      const res = await send();
      expectProblem(res, status, code);
      expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
    });
  });
});
