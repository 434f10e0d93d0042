import { describe, expect, it, vi } from 'vitest';
import { eventsAbout, eventsOf, type StoredEvent } from '../support/audit.ts';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem, type ApiResponse } from '../support/http.ts';
import { createProjectWithMembers, projectState } from '../support/projects.ts';
import { createTask, statesOf, taskState } from '../support/tasks.ts';
import { mailedToken } from '../support/mail.ts';
import { createUser, logInForTokens, PASSWORD, uniqueEmail, type TestUser } from '../support/users.ts';

/*
 * The audit trail's contract: every change the API makes writes its event, in the same statement or
 * transaction; refused changes write nothing; an event that cannot be written takes its change with it.
 */

const CLIENT = { 'CF-Connecting-IP': '203.0.113.77', 'User-Agent': 'audit-test/1.0' };

/** A request as a client makes it, from a known address and user agent. */
const act = (
  method: string,
  path: string,
  options: { token?: string; json?: unknown; headers?: Record<string, string> } = {},
) => call(method, path, { ...options, headers: { ...CLIENT, ...options.headers } });

interface Expected {
  action: string;
  entity_type: string;
  entity_id: string;
  project_id?: string | null;
  actor_id: string | null;
  changes?: Record<string, { old: unknown; new: unknown }>;
}

const byAction = <T extends { action: string; entity_id: string }>(events: T[]) =>
  [...events].sort((a, b) => a.action.localeCompare(b.action) || a.entity_id.localeCompare(b.entity_id));

/**
 * The request answered `status` and wrote exactly `expected` (in any order: one statement writes its
 * events together), each with its request id, address and user agent.
 */
async function expectEvents(response: ApiResponse, status: number, unordered: Expected[]): Promise<StoredEvent[]> {
  expect(response.status, response.text).toBe(status);
  const events = byAction(await eventsOf(response));
  const expected = byAction(unordered);
  expect(events.map((event) => event.action)).toEqual(expected.map((event) => event.action));
  events.forEach((event, index) => {
    const { changes, ...fields } = expected[index]!;
    expect(event).toMatchObject({
      project_id: null,
      ...fields,
      ip: CLIENT['CF-Connecting-IP'],
      user_agent: CLIENT['User-Agent'],
    });
    if (changes) expect(event.changes).toEqual(changes);
  });
  return events;
}

const documentedMutations = async () => {
  const doc = (await call('GET', '/openapi.json')).body as { paths: Record<string, Record<string, unknown>> };
  return Object.entries(doc.paths).flatMap(([path, operations]) =>
    Object.keys(operations)
      .filter((method) => method !== 'get')
      .map((method) => `${method.toUpperCase()} ${path}`),
  );
};

describe('every mutating route writes its event', () => {
  it('each route of the contract that changes something, with its actor, entity, project, request and changes', async () => {
    const covered = new Set<string>();
    const route = (name: string) => covered.add(name);
    const admin = await createUser({ role: 'admin' });

    // POST /auth/signup: the new user is the actor; the event has the email, name and role, never the password.
    route('POST /auth/signup');
    const email = uniqueEmail('audited');
    const signup = await act('POST', '/auth/signup', { json: { email, password: PASSWORD, full_name: 'Ada' } });
    const userId = signup.body.id as string;
    const [signedUp] = await expectEvents(signup, 201, [
      {
        action: 'user.signup',
        entity_type: 'user',
        entity_id: userId,
        actor_id: userId,
        changes: {
          email: { old: null, new: email },
          full_name: { old: null, new: 'Ada' },
          role: { old: null, new: 'user' },
        },
      },
    ]);
    expect(JSON.stringify(signedUp)).not.toContain(PASSWORD);

    // POST /auth/login: a failure against an existing account is recorded (actor unknown); a success changes nothing audited.
    route('POST /auth/login');
    await expectEvents(await act('POST', '/auth/login', { json: { email, password: 'wrong password!' } }), 401, [
      { action: 'auth.login_failed', entity_type: 'user', entity_id: userId, actor_id: null, changes: {} },
    ]);
    await expectEvents(
      await act('POST', '/auth/login', { json: { email: uniqueEmail('nobody'), password: 'wrong password!' } }),
      401,
      [],
    );
    const login = await act('POST', '/auth/login', { json: { email, password: PASSWORD } });
    await expectEvents(login, 200, []);
    const user: TestUser = {
      id: userId,
      email,
      password: PASSWORD,
      token: login.body.access_token,
      refreshToken: login.body.refresh_token,
    };

    route('PATCH /auth/me');
    await expectEvents(await act('PATCH', '/auth/me', { token: user.token, json: { full_name: 'Ada L.' } }), 200, [
      {
        action: 'user.update',
        entity_type: 'user',
        entity_id: userId,
        actor_id: userId,
        changes: { full_name: { old: 'Ada', new: 'Ada L.' } },
      },
    ]);

    // POST /auth/refresh: a rotation changes nothing audited; a reused token revokes its session (by the system).
    route('POST /auth/refresh');
    const rotated = await act('POST', '/auth/refresh', { json: { refresh_token: user.refreshToken } });
    await expectEvents(rotated, 200, []);
    const [session] = await sql()`select id from sessions where user_id = ${userId}`;
    await expectEvents(await act('POST', '/auth/refresh', { json: { refresh_token: user.refreshToken } }), 401, [
      { action: 'session.revoke', entity_type: 'session', entity_id: session!.id, actor_id: null },
    ]);

    route('POST /auth/logout');
    const second = await logInForTokens(email, PASSWORD);
    const [secondSession] = await sql()`select id from sessions where user_id = ${userId} and revoked_at is null`;
    await expectEvents(await act('POST', '/auth/logout', { json: { refresh_token: second.refresh_token } }), 204, [
      { action: 'session.revoke', entity_type: 'session', entity_id: secondSession!.id, actor_id: userId },
    ]);

    route('DELETE /auth/sessions/{id}');
    const third = await logInForTokens(email, PASSWORD);
    const [thirdSession] = await sql()`select id from sessions where user_id = ${userId} and revoked_at is null`;
    await expectEvents(await act('DELETE', `/auth/sessions/${thirdSession!.id}`, { token: third.access_token }), 204, [
      { action: 'session.revoke', entity_type: 'session', entity_id: thirdSession!.id, actor_id: userId },
    ]);

    // POST /auth/me/password: recorded without the password or its hash; a wrong current password is a failed login.
    route('POST /auth/me/password');
    const fourth = await logInForTokens(email, PASSWORD);
    await expectEvents(
      await act('POST', '/auth/me/password', {
        token: fourth.access_token,
        json: { current_password: 'not it at all', new_password: 'another long password' },
      }),
      403,
      [{ action: 'auth.login_failed', entity_type: 'user', entity_id: userId, actor_id: userId }],
    );
    const changed = await act('POST', '/auth/me/password', {
      token: fourth.access_token,
      json: { current_password: PASSWORD, new_password: 'another long password' },
    });
    const [passwordEvent] = await expectEvents(changed, 204, [
      { action: 'user.password_change', entity_type: 'user', entity_id: userId, actor_id: userId, changes: {} },
    ]);
    expect(JSON.stringify(passwordEvent)).not.toMatch(/another long password|scrypt|\$2[aby]\$/);

    route('POST /auth/logout-all');
    const fifth = await logInForTokens(email, 'another long password');
    await expectEvents(await act('POST', '/auth/logout-all', { token: fifth.access_token }), 204, [
      { action: 'session.revoke_all', entity_type: 'user', entity_id: userId, actor_id: userId, changes: {} },
    ]);

    route('PATCH /auth/admin/users/{id}/role');
    const target = await createUser();
    await expectEvents(
      await act('PATCH', `/auth/admin/users/${target.id}/role`, { token: admin.token, json: { role: 'admin' } }),
      200,
      [
        {
          action: 'user.role_change',
          entity_type: 'user',
          entity_id: target.id,
          actor_id: admin.id,
          changes: { role: { old: 'user', new: 'admin' } },
        },
      ],
    );
    route('PATCH /auth/admin/users/{id}/status');
    await expectEvents(
      await act('PATCH', `/auth/admin/users/${target.id}/status`, { token: admin.token, json: { is_active: false } }),
      200,
      [
        {
          action: 'user.status_change',
          entity_type: 'user',
          entity_id: target.id,
          actor_id: admin.id,
          changes: { is_active: { old: true, new: false } },
        },
      ],
    );

    // Projects.
    const owner = await createUser();
    const editor = await createUser();
    const newcomer = await createUser();
    route('POST /projects');
    const created = await act('POST', '/projects', {
      token: owner.token,
      json: { name: 'Apollo', description: 'to the moon' },
    });
    const projectId = created.body.id as string;
    const inProject = { project_id: projectId };
    await expectEvents(created, 201, [
      {
        action: 'project.create',
        entity_type: 'project',
        entity_id: projectId,
        ...inProject,
        actor_id: owner.id,
        changes: {
          name: { old: null, new: 'Apollo' },
          description: { old: null, new: 'to the moon' },
          owner_id: { old: null, new: owner.id },
        },
      },
    ]);
    route('PATCH /projects/{id}');
    await expectEvents(
      await act('PATCH', `/projects/${projectId}`, { token: owner.token, json: { name: 'Artemis' } }),
      200,
      [
        {
          action: 'project.update',
          entity_type: 'project',
          entity_id: projectId,
          ...inProject,
          actor_id: owner.id,
          changes: { name: { old: 'Apollo', new: 'Artemis' } },
        },
      ],
    );
    route('PUT /projects/{id}');
    await expectEvents(
      await act('PUT', `/projects/${projectId}`, { token: owner.token, json: { name: 'Artemis', description: null } }),
      200,
      [
        {
          action: 'project.update',
          entity_type: 'project',
          entity_id: projectId,
          ...inProject,
          actor_id: owner.id,
          changes: { description: { old: 'to the moon', new: null } },
        },
      ],
    );
    // Admins add at once; everyone else's POST /members is an invitation (below).
    route('POST /projects/{id}/members');
    await expectEvents(
      await act('POST', `/projects/${projectId}/members`, {
        token: admin.token,
        json: { email: editor.email, role: 'viewer' },
      }),
      201,
      [
        {
          action: 'member.add',
          entity_type: 'member',
          entity_id: editor.id,
          ...inProject,
          actor_id: admin.id,
          changes: { role: { old: null, new: 'viewer' } },
        },
      ],
    );
    route('PATCH /projects/{id}/members/{user_id}');
    await expectEvents(
      await act('PATCH', `/projects/${projectId}/members/${editor.id}`, {
        token: owner.token,
        json: { role: 'editor' },
      }),
      200,
      [
        {
          action: 'member.role_change',
          entity_type: 'member',
          entity_id: editor.id,
          ...inProject,
          actor_id: owner.id,
          changes: { role: { old: 'viewer', new: 'editor' } },
        },
      ],
    );

    // Workflow.
    const states = await statesOf(owner, projectId);
    route('POST /projects/{id}/states');
    const qa = await act('POST', `/projects/${projectId}/states`, {
      token: owner.token,
      json: { name: 'QA', category: 'started' },
    });
    await expectEvents(qa, 201, [
      {
        action: 'state.create',
        entity_type: 'state',
        entity_id: qa.body.id,
        ...inProject,
        actor_id: owner.id,
        changes: {
          name: { old: null, new: 'QA' },
          category: { old: null, new: 'started' },
          position: { old: null, new: 6 },
        },
      },
    ]);
    route('PATCH /projects/{id}/states/{state_id}');
    await expectEvents(
      await act('PATCH', `/projects/${projectId}/states/${qa.body.id}`, {
        token: owner.token,
        json: { name: 'Testing' },
      }),
      200,
      [
        {
          action: 'state.update',
          entity_type: 'state',
          entity_id: qa.body.id,
          ...inProject,
          actor_id: owner.id,
          changes: { name: { old: 'QA', new: 'Testing' } },
        },
      ],
    );
    route('PUT /projects/{id}/transitions');
    const pair = { from_state_id: states['To do']!.id, to_state_id: states['In progress']!.id };
    await expectEvents(
      await act('PUT', `/projects/${projectId}/transitions`, { token: owner.token, json: [pair] }),
      200,
      [
        {
          action: 'state.transitions_replace',
          entity_type: 'project',
          entity_id: projectId,
          ...inProject,
          actor_id: owner.id,
          changes: { transitions: { old: null, new: [[pair.from_state_id, pair.to_state_id]] } },
        },
      ],
    );

    // Tasks.
    route('POST /projects/{id}/tasks');
    const task = await act('POST', `/projects/${projectId}/tasks`, {
      token: editor.token,
      json: { title: 'Launch', priority: 'high', assignee_id: editor.id },
    });
    const taskId = task.body.id as string;
    await expectEvents(task, 201, [
      {
        action: 'task.create',
        entity_type: 'task',
        entity_id: taskId,
        ...inProject,
        actor_id: editor.id,
        changes: {
          title: { old: null, new: 'Launch' },
          priority: { old: null, new: 'high' },
          assignee_id: { old: null, new: editor.id },
          state_id: { old: null, new: states['To do']!.id },
        },
      },
    ]);
    route('PATCH /tasks/{id}');
    await expectEvents(
      await act('PATCH', `/tasks/${taskId}`, {
        token: editor.token,
        json: { title: 'Launch!', priority: 'urgent', due_date: '2027-01-31' },
      }),
      200,
      [
        {
          action: 'task.update',
          entity_type: 'task',
          entity_id: taskId,
          ...inProject,
          actor_id: editor.id,
          changes: {
            title: { old: 'Launch', new: 'Launch!' },
            priority: { old: 'high', new: 'urgent' },
            due_date: { old: null, new: '2027-01-31' },
          },
        },
      ],
    );
    route('POST /tasks/{id}/transition');
    await expectEvents(
      await act('POST', `/tasks/${taskId}/transition`, {
        token: editor.token,
        json: { to_state_id: states['In progress']!.id },
      }),
      200,
      [
        {
          action: 'task.transition',
          entity_type: 'task',
          entity_id: taskId,
          ...inProject,
          actor_id: editor.id,
          changes: { state_id: { old: states['To do']!.id, new: states['In progress']!.id } },
        },
      ],
    );
    route('DELETE /tasks/{id}');
    const deleted = await expectEvents(await act('DELETE', `/tasks/${taskId}`, { token: editor.token }), 200, [
      { action: 'task.delete', entity_type: 'task', entity_id: taskId, ...inProject, actor_id: editor.id },
    ]);
    expect(deleted[0]!.changes.deleted_at).toEqual({ old: null, new: expect.any(String) });
    route('POST /tasks/{id}/restore');
    const restored = await expectEvents(await act('POST', `/tasks/${taskId}/restore`, { token: editor.token }), 200, [
      { action: 'task.restore', entity_type: 'task', entity_id: taskId, ...inProject, actor_id: editor.id },
    ]);
    expect(restored[0]!.changes.deleted_at).toEqual({ old: deleted[0]!.changes.deleted_at!.new, new: null });

    // Deleting a state moves its tasks: each move is a transition in the same transaction.
    route('DELETE /projects/{id}/states/{state_id}');
    await expectEvents(
      await act('DELETE', `/projects/${projectId}/states/${states['In progress']!.id}?move_to=${qa.body.id}`, {
        token: owner.token,
      }),
      204,
      [
        {
          action: 'task.transition',
          entity_type: 'task',
          entity_id: taskId,
          ...inProject,
          actor_id: owner.id,
          changes: { state_id: { old: states['In progress']!.id, new: qa.body.id } },
        },
        {
          action: 'state.delete',
          entity_type: 'state',
          entity_id: states['In progress']!.id,
          ...inProject,
          actor_id: owner.id,
          changes: {
            name: { old: 'In progress', new: null },
            category: { old: 'started', new: null },
            position: { old: 2, new: null },
          },
        },
      ],
    );

    // Removing a member unassigns their tasks: each unassignment is a task.update of the same statement.
    route('DELETE /projects/{id}/members/{user_id}');
    await expectEvents(
      await act('DELETE', `/projects/${projectId}/members/${editor.id}`, { token: owner.token }),
      204,
      [
        {
          action: 'member.remove',
          entity_type: 'member',
          entity_id: editor.id,
          ...inProject,
          actor_id: owner.id,
          changes: { role: { old: 'editor', new: null } },
        },
        {
          action: 'task.update',
          entity_type: 'task',
          entity_id: taskId,
          ...inProject,
          actor_id: owner.id,
          changes: { assignee_id: { old: editor.id, new: null } },
        },
      ],
    );

    route('POST /projects/{id}/transfer');
    await act('POST', `/projects/${projectId}/members`, {
      token: admin.token,
      json: { email: newcomer.email, role: 'manager' },
    });
    await expectEvents(
      await act('POST', `/projects/${projectId}/transfer`, { token: owner.token, json: { user_id: newcomer.id } }),
      200,
      [
        {
          action: 'project.transfer',
          entity_type: 'project',
          entity_id: projectId,
          ...inProject,
          actor_id: owner.id,
          changes: { owner_id: { old: owner.id, new: newcomer.id } },
        },
      ],
    );
    route('DELETE /projects/{id}');
    const projectDeleted = await expectEvents(
      await act('DELETE', `/projects/${projectId}`, { token: newcomer.token }),
      200,
      [{ action: 'project.delete', entity_type: 'project', entity_id: projectId, ...inProject, actor_id: newcomer.id }],
    );
    expect(projectDeleted[0]!.changes.deleted_at).toEqual({ old: null, new: expect.any(String) });
    route('POST /projects/{id}/restore');
    await expectEvents(await act('POST', `/projects/${projectId}/restore`, { token: newcomer.token }), 200, [
      {
        action: 'project.restore',
        entity_type: 'project',
        entity_id: projectId,
        ...inProject,
        actor_id: newcomer.id,
        changes: { deleted_at: { old: projectDeleted[0]!.changes.deleted_at!.new, new: null } },
      },
    ]);

    // Accounts: a reset, a verification, an email change (the tokens come from the outbox).
    const recovering = await createUser();
    route('POST /auth/password/forgot');
    await expectEvents(await act('POST', '/auth/password/forgot', { json: { email: recovering.email } }), 202, [
      {
        action: 'user.password_reset_request',
        entity_type: 'user',
        entity_id: recovering.id,
        actor_id: null,
        changes: {},
      },
    ]);
    await expectEvents(await act('POST', '/auth/password/forgot', { json: { email: uniqueEmail('nobody') } }), 202, []);
    route('POST /auth/password/reset');
    const resetToken = await mailedToken(recovering.email, 'password_reset');
    await expectEvents(
      await act('POST', '/auth/password/reset', { json: { token: resetToken, new_password: 'recovered passphrase' } }),
      204,
      [
        {
          action: 'user.password_reset',
          entity_type: 'user',
          entity_id: recovering.id,
          actor_id: recovering.id,
          changes: {},
        },
      ],
    );
    const verifying = await createUser();
    route('POST /auth/email/verify/resend');
    await expectEvents(await act('POST', '/auth/email/verify/resend', { token: verifying.token }), 202, [
      {
        action: 'user.email_verify_request',
        entity_type: 'user',
        entity_id: verifying.id,
        actor_id: verifying.id,
        changes: {},
      },
    ]);
    route('POST /auth/email/verify');
    const verified = await expectEvents(
      await act('POST', '/auth/email/verify', { json: { token: await mailedToken(verifying.email, 'email_verify') } }),
      200,
      [{ action: 'user.email_verify', entity_type: 'user', entity_id: verifying.id, actor_id: verifying.id }],
    );
    expect(verified[0]!.changes.email_verified_at).toEqual({ old: null, new: expect.any(String) });
    route('POST /auth/me/email');
    const moved = uniqueEmail('moved');
    await expectEvents(
      await act('POST', '/auth/me/email', {
        token: verifying.token,
        json: { new_email: moved, current_password: PASSWORD },
      }),
      202,
      [
        {
          action: 'user.email_change_request',
          entity_type: 'user',
          entity_id: verifying.id,
          actor_id: verifying.id,
          changes: { new_email: { old: null, new: moved } },
        },
      ],
    );
    await expectEvents(
      await act('POST', '/auth/email/verify', { json: { token: await mailedToken(moved, 'email_change_verify') } }),
      200,
      [
        {
          action: 'user.email_change',
          entity_type: 'user',
          entity_id: verifying.id,
          actor_id: verifying.id,
          changes: { email: { old: verifying.email, new: moved } },
        },
      ],
    );

    // Invitations: made, withdrawn, accepted by token and by id.
    const inviter = await createUser();
    const team = await createProjectWithMembers(inviter);
    const inTeam = { project_id: team.id };
    const invite = (email: string) =>
      act('POST', `/projects/${team.id}/invitations`, { token: inviter.token, json: { email, role: 'editor' } });
    route('POST /projects/{id}/invitations');
    const invited = await invite(moved);
    await expectEvents(invited, 202, [
      {
        action: 'invitation.create',
        entity_type: 'invitation',
        entity_id: invited.body.id,
        ...inTeam,
        actor_id: inviter.id,
        changes: { email: { old: null, new: moved }, role: { old: null, new: 'editor' } },
      },
    ]);
    route('POST /invitations/accept');
    await expectEvents(
      await act('POST', '/invitations/accept', {
        token: verifying.token,
        json: { token: await mailedToken(moved, 'invitation') },
      }),
      201,
      [
        {
          action: 'invitation.accept',
          entity_type: 'invitation',
          entity_id: invited.body.id,
          ...inTeam,
          actor_id: verifying.id,
          changes: { accepted_by: { old: null, new: verifying.id } },
        },
        {
          action: 'member.add',
          entity_type: 'member',
          entity_id: verifying.id,
          ...inTeam,
          actor_id: verifying.id,
          changes: { role: { old: null, new: 'editor' } },
        },
      ],
    );
    route('DELETE /projects/{id}/invitations/{invitation_id}');
    const withdrawn = await invite(uniqueEmail('withdrawn'));
    await expectEvents(
      await act('DELETE', `/projects/${team.id}/invitations/${withdrawn.body.id}`, { token: inviter.token }),
      204,
      [
        {
          action: 'invitation.withdraw',
          entity_type: 'invitation',
          entity_id: withdrawn.body.id,
          ...inTeam,
          actor_id: inviter.id,
        },
      ],
    );
    route('POST /invitations/{id}/accept');
    const joiner = await createUser();
    await call('POST', '/auth/email/verify', { json: { token: await mailedToken(joiner.email, 'email_verify') } });
    const byId = await invite(joiner.email);
    await expectEvents(await act('POST', `/invitations/${byId.body.id}/accept`, { token: joiner.token }), 201, [
      {
        action: 'invitation.accept',
        entity_type: 'invitation',
        entity_id: byId.body.id,
        ...inTeam,
        actor_id: joiner.id,
        changes: { accepted_by: { old: null, new: joiner.id } },
      },
      {
        action: 'member.add',
        entity_type: 'member',
        entity_id: joiner.id,
        ...inTeam,
        actor_id: joiner.id,
        changes: { role: { old: null, new: 'editor' } },
      },
    ]);

    // API keys: made and revoked by their owner, or revoked by an admin; the event never holds the key.
    route('POST /auth/api-keys');
    const keyOwner = await createUser();
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const made = await act('POST', '/auth/api-keys', {
      token: keyOwner.token,
      json: { name: 'audited', scopes: ['tasks:read'], max_role: 'viewer', expires_at: expiresAt },
    });
    const [keyMade] = await expectEvents(made, 201, [
      { action: 'api_key.create', entity_type: 'api_key', entity_id: made.body.id, actor_id: keyOwner.id },
    ]);
    expect(keyMade!.changes).toMatchObject({
      name: { old: null, new: 'audited' },
      scopes: { old: null, new: ['tasks:read'] },
      max_role: { old: null, new: 'viewer' },
    });
    expect(JSON.stringify(keyMade)).not.toContain(made.body.key.slice(12));
    route('DELETE /auth/api-keys/{id}');
    await expectEvents(await act('DELETE', `/auth/api-keys/${made.body.id}`, { token: keyOwner.token }), 204, [
      { action: 'api_key.revoke', entity_type: 'api_key', entity_id: made.body.id, actor_id: keyOwner.id },
    ]);
    route('DELETE /auth/admin/users/{id}/api-keys/{key_id}');
    const secondKey = await act('POST', '/auth/api-keys', {
      token: keyOwner.token,
      json: { name: 'second', scopes: ['tasks:read'], expires_at: expiresAt },
    });
    await expectEvents(
      await act('DELETE', `/auth/admin/users/${keyOwner.id}/api-keys/${secondKey.body.id}`, { token: admin.token }),
      204,
      [{ action: 'api_key.revoke', entity_type: 'api_key', entity_id: secondKey.body.id, actor_id: admin.id }],
    );

    expect([...covered].sort()).toEqual((await documentedMutations()).sort());
  });
});

describe('the hot writes keep their cost', () => {
  it('each writes its change and its event in one statement and one round trip', async () => {
    const owner = await createUser();
    const other = await createUser();
    const created = await call('POST', '/projects', { token: owner.token, json: { name: 'Costed' } });
    const projectId = created.body.id as string;
    const task = await call('POST', `/projects/${projectId}/tasks`, { token: owner.token, json: { title: 'Costed' } });
    const states = await statesOf(owner, projectId);
    // Added directly, as an admin or an accepted invitation would, for the membership writes below.
    await sql()`insert into project_members (project_id, user_id, role, project_created_at)
                values (${projectId}, ${other.id}, 'editor', ${created.body.created_at})`;
    const writes = [
      created,
      task,
      await call('PATCH', `/projects/${projectId}`, { token: owner.token, json: { name: 'Costed again' } }),
      await call('POST', `/projects/${projectId}/invitations`, {
        token: owner.token,
        json: { email: uniqueEmail('costed'), role: 'editor' },
      }),
      await call('POST', '/auth/email/verify/resend', { token: other.token }),
      await call('PATCH', `/projects/${projectId}/members/${other.id}`, {
        token: owner.token,
        json: { role: 'viewer' },
      }),
      await call('PATCH', `/tasks/${task.body.id}`, { token: owner.token, json: { priority: 'low' } }),
      await call('POST', `/tasks/${task.body.id}/transition`, {
        token: owner.token,
        json: { to_state_id: states['Done']!.id },
      }),
      await call('DELETE', `/tasks/${task.body.id}`, { token: owner.token }),
      await call('DELETE', `/projects/${projectId}/members/${other.id}`, { token: owner.token }),
      await call('DELETE', `/projects/${projectId}`, { token: owner.token }),
    ];
    for (const write of writes) {
      expect(write.status, write.text).toBeLessThan(300);
      expect(databaseTraffic(write)).toEqual({ statements: 1, roundTrips: 1 });
      expect(await eventsOf(write)).toHaveLength(1);
    }
  });
});

describe('no change without its event, no event without its change', () => {
  /** Makes every audit insert about `entityId` fail, for the duration of `run`. */
  async function withFailingAudit(entityId: string, run: () => Promise<void>) {
    const name = `audit_fails_${entityId.replace(/-/g, '')}`;
    await sql().unsafe(
      `create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'audit write refused (test)'; end $$`,
    );
    await sql().unsafe(
      `create trigger ${name} before insert on audit_events for each row when (new.entity_id = '${entityId}' or new.project_id = '${entityId}') execute function ${name}()`,
    );
    try {
      await run();
    } finally {
      await sql().unsafe(`drop trigger ${name} on audit_events`);
      await sql().unsafe(`drop function ${name}()`);
    }
  }

  it('when the event cannot be written, the change is rolled back: statements (CTE) and transactions alike', async () => {
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const owner = await createUser();
    const member = await createUser();
    const project = await createProjectWithMembers(owner, [[member, 'viewer']]);
    const task = await createTask(owner, project.id);
    const before = await projectState(project.id);
    const taskBefore = await taskState(task.id);
    const statesBefore =
      await sql()`select id, name, position from workflow_states where project_id = ${project.id} order by position`;
    await withFailingAudit(project.id, async () => {
      expectProblem(
        await call('PATCH', `/projects/${project.id}`, { token: owner.token, json: { name: 'Never' } }),
        500,
      );
      expectProblem(await call('DELETE', `/projects/${project.id}`, { token: owner.token }), 500);
      expectProblem(
        await call('PATCH', `/projects/${project.id}/members/${member.id}`, {
          token: owner.token,
          json: { role: 'editor' },
        }),
        500,
      );
      expectProblem(await call('DELETE', `/projects/${project.id}/members/${member.id}`, { token: owner.token }), 500);
      expectProblem(
        await call('POST', `/projects/${project.id}/transfer`, { token: owner.token, json: { user_id: member.id } }),
        500,
      );
      expectProblem(
        await call('POST', `/projects/${project.id}/states`, {
          token: owner.token,
          json: { name: 'Never', category: 'started' },
        }),
        500,
      );
      expectProblem(await call('PATCH', `/tasks/${task.id}`, { token: owner.token, json: { title: 'Never' } }), 500);
      expectProblem(
        await call('POST', `/projects/${project.id}/tasks`, { token: owner.token, json: { title: 'Never' } }),
        500,
      );
    });
    expect(await projectState(project.id)).toEqual(before);
    expect(await taskState(task.id)).toEqual(taskBefore);
    expect(
      await sql()`select id, name, position from workflow_states where project_id = ${project.id} order by position`,
    ).toEqual(statesBefore);
    const [{ n }] = (await sql()`select count(*)::int as n from tasks where project_id = ${project.id}`) as unknown as [
      { n: number },
    ];
    expect(n).toBe(1);
    // The task counter did not move either: the next task is number 2.
    expect((await createTask(owner, project.id)).number).toBe(2);
    // Each failure is a 500 whose request line says why.
    const failures = logged.mock.calls.map(([line]) => JSON.parse(String(line))).filter((line) => line.status === 500);
    expect(failures).toHaveLength(8);
    for (const line of failures)
      expect(line).toMatchObject({
        level: 'error',
        error: { cause: { message: 'audit write refused (test)', code: 'P0001' } },
      });
    logged.mockRestore();
  });

  it('a signup whose event cannot be written leaves no account', async () => {
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const email = uniqueEmail('rolled-back');
    const name = 'audit_fails_signup';
    await sql().unsafe(
      `create function ${name}() returns trigger language plpgsql as $$ begin raise exception 'audit write refused (test)'; end $$`,
    );
    await sql().unsafe(
      `create trigger ${name} before insert on audit_events for each row when (new.action = 'user.signup' and new.changes->'email'->>'new' = '${email}') execute function ${name}()`,
    );
    try {
      expectProblem(await call('POST', '/auth/signup', { json: { email, password: PASSWORD } }), 500);
    } finally {
      await sql().unsafe(`drop trigger ${name} on audit_events`);
      await sql().unsafe(`drop function ${name}()`);
    }
    expect(await sql()`select id from users where email = ${email}`).toEqual([]);
    logged.mockRestore();
  });

  it('refused and failed changes write nothing', async () => {
    const owner = await createUser();
    const viewer = await createUser();
    const stranger = await createUser();
    const project = await createProjectWithMembers(owner, [[viewer, 'viewer']]);
    const task = await createTask(owner, project.id);
    const refusals: [ApiResponse, number][] = [
      [await call('PATCH', `/projects/${project.id}`, { token: viewer.token, json: { name: 'No' } }), 403],
      [await call('PATCH', `/projects/${project.id}`, { token: stranger.token, json: { name: 'No' } }), 404],
      [
        await call('PATCH', `/projects/${project.id}`, {
          token: owner.token,
          json: { name: 'No' },
          headers: { 'If-Match': '"99"' },
        }),
        412,
      ],
      [await call('PATCH', `/projects/${project.id}`, { token: owner.token, json: { name: '' } }), 422],
      [await call('POST', `/projects/${project.id}/restore`, { token: owner.token }), 409],
      [await call('PATCH', `/tasks/${task.id}`, { token: viewer.token, json: { title: 'No' } }), 403],
      [
        await call('POST', `/tasks/${task.id}/transition`, {
          token: owner.token,
          json: { to_state_id: task.state.id },
        }),
        409,
      ],
      [
        await call('POST', `/projects/${project.id}/members`, {
          token: owner.token,
          json: { email: viewer.email, role: 'editor' },
        }),
        409,
      ],
      [await call('DELETE', `/projects/${project.id}/members/${owner.id}`, { token: owner.token }), 409],
      [
        await call('POST', `/projects/${project.id}/states`, {
          token: viewer.token,
          json: { name: 'No', category: 'started' },
        }),
        403,
      ],
      [
        await call('PATCH', `/auth/admin/users/${owner.id}/role`, { token: viewer.token, json: { role: 'admin' } }),
        403,
      ],
      [await call('POST', '/auth/signup', { json: { email: owner.email, password: PASSWORD } }), 409],
    ];
    for (const [response, status] of refusals) {
      expectProblem(response, status);
      expect(await eventsOf(response)).toEqual([]);
    }
    // Only the fixtures' own events: the project's creation and the task's.
    expect((await eventsAbout(project.id)).map((event) => event.action)).toEqual(['project.create']);
    expect((await eventsAbout(task.id)).map((event) => event.action)).toEqual(['task.create']);
  });

  it('concurrent updates of one project each record what they replaced: the chain of old and new values is unbroken', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const names = Array.from({ length: 8 }, (_, index) => `Name ${index}`);
    const results = await Promise.all(
      names.map((name) => call('PATCH', `/projects/${project.id}`, { token: owner.token, json: { name } })),
    );
    expect(results.map((res) => res.status)).toEqual(names.map(() => 200));
    const updates = (await eventsAbout(project.id)).filter((event) => event.action === 'project.update');
    expect(updates).toHaveLength(8);
    // Each event's old value is the previous event's new one, starting from the name at creation.
    let previous: unknown = 'Team project';
    for (const event of updates) {
      expect(event.changes.name?.old ?? previous).toBe(previous);
      previous = event.changes.name?.new ?? previous;
    }
    const [row] = await sql()`select name from projects where id = ${project.id}`;
    expect(row!.name).toBe(previous);
  });
});
