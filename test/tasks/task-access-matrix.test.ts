import { beforeAll, describe, expect, it } from 'vitest';
import { call, expectProblem } from '../support/http.ts';
import { CALLERS, createTeam, expectCell, taskFixture, tokenOf, type Team } from '../support/matrix.ts';
import { workState } from '../support/tasks.ts';
import { TASK_ROUTES } from '../support/access-routes.ts';

/**
 * Every task and workflow route for every kind of caller (the members matrix of the projects issue, on
 * the routes of the tasks issue). A refusal must leave the project's states, transitions, tasks and
 * history exactly as they were.
 */

let team: Team;

beforeAll(async () => {
  team = await createTeam();
});

describe('the task and workflow access matrix', () => {
  for (const route of TASK_ROUTES) {
    describe(route.name, () => {
      for (const caller of CALLERS) {
        const status = route.expect[caller];
        it(`${caller} -> ${status}`, async () => {
          const f = await taskFixture(team);
          await expectCell(team, caller, status, route.request(f, team), () => workState(f.projectId));
        });
      }
    });
  }

  it('GET /tasks?assignee=me: any active user (their own tasks only); 401 anonymous, 403 deactivated', async () => {
    const f = await taskFixture(team);
    await call('PATCH', `/tasks/${f.taskId}`, { token: team.owner.token, json: { assignee_id: team.editor.id } });
    for (const caller of CALLERS) {
      const res = await call('GET', '/tasks?assignee=me', { token: tokenOf(team, caller) });
      if (caller === 'anonymous') expectProblem(res, 401);
      else if (caller === 'deactivated member') expectProblem(res, 403);
      else {
        expect(res.status).toBe(200);
        const ids = res.body.map((task: { id: string }) => task.id);
        expect(ids.includes(f.taskId)).toBe(caller === 'editor');
      }
    }
  });
});
