import { beforeAll, describe, expect, it } from 'vitest';
import { call, databaseTraffic, type ApiResponse } from '../support/http.ts';
import { createTask, statesOf } from '../support/tasks.ts';
import { createUser, logInForTokens, PASSWORD, type TestUser } from '../support/users.ts';

/**
 * The benchmark's hot scenarios (bench/lib/report.ts EDGE_SCENARIOS), each as the benchmark sends it: one
 * statement in one database round trip. From the edge every round trip crosses to the database, so a
 * second one would cost users tens of milliseconds; `npm run bench` measures the same on the wire.
 */
describe('hot paths: one statement, one round trip', () => {
  let user: TestUser;
  let projectId: string;
  let taskId: string;
  let toStateId: string;
  beforeAll(async () => {
    user = await createUser({ label: 'hot' });
    const project = await call('POST', '/projects', { token: user.token, json: { name: 'Hot project' } });
    projectId = project.body.id;
    const states = await statesOf(user, projectId);
    taskId = (await createTask(user, projectId, { assignee_id: user.id })).id;
    toStateId = states['In progress']!.id;
  });

  const scenarios: [string, () => Promise<ApiResponse>][] = [
    ['me', () => call('GET', '/auth/me', { token: user.token })],
    ['get', () => call('GET', `/projects/${projectId}`, { token: user.token })],
    ['list', () => call('GET', '/projects?limit=20', { token: user.token })],
    ['create', () => call('POST', '/projects', { token: user.token, json: { name: 'Created' } })],
    [
      'update',
      () =>
        call('PATCH', `/projects/${projectId}`, { token: user.token, json: { description: `updated ${Date.now()}` } }),
    ],
    ['task_get', () => call('GET', `/tasks/${taskId}`, { token: user.token })],
    ['task_list', () => call('GET', `/projects/${projectId}/tasks?limit=50`, { token: user.token })],
    [
      'task_create',
      () =>
        call('POST', `/projects/${projectId}/tasks`, {
          token: user.token,
          json: { title: 'Created', priority: 'medium' },
        }),
    ],
    [
      'task_transition',
      () => call('POST', `/tasks/${taskId}/transition`, { token: user.token, json: { to_state_id: toStateId } }),
    ],
    ['my_tasks', () => call('GET', '/tasks?assignee=me&limit=50', { token: user.token })],
    [
      'refresh',
      async () =>
        call('POST', '/auth/refresh', {
          json: { refresh_token: (await logInForTokens(user.email, PASSWORD)).refresh_token },
        }),
    ],
  ];

  it.each(scenarios)('%s', async (_name, send) => {
    const res = await send();
    expect(res.status, res.text).toBeLessThan(300);
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
  });

  // Every attempt is counted before its password is checked, so a success must give its attempt back
  // after the check (modules/auth/throttle.ts): a second statement, after the hash, which dominates anyway.
  it('login: two statements, the second after the password check', async () => {
    const res = await call('POST', '/auth/login', { json: { email: user.email, password: PASSWORD } });
    expect(res.status, res.text).toBe(200);
    expect(databaseTraffic(res)).toEqual({ statements: 2, roundTrips: 2 });
  });
});
