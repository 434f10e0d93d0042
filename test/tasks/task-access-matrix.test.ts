import { beforeAll, describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { CALLERS, createTeam, expectCell, teamProject, tokenOf, type Team } from '../support/matrix.ts';
import { createTask, statesOf } from '../support/tasks.ts';
import { TASK_ROUTES, type TaskFixture } from '../support/access-routes.ts';

/**
 * Every task and workflow route for every kind of caller (the members matrix of the projects issue, on
 * the routes of the tasks issue). A refusal must leave the project's states, transitions, tasks and
 * history exactly as they were.
 */

let team: Team;

beforeAll(async () => {
  team = await createTeam();
});

async function fixture(): Promise<TaskFixture> {
  const project = await teamProject(team);
  const task = await createTask(team.owner, project.id);
  const deleted = await createTask(team.owner, project.id);
  await call('DELETE', `/tasks/${deleted.id}`, { token: team.owner.token });
  return {
    projectId: project.id,
    taskId: task.id,
    deletedTaskId: deleted.id,
    states: await statesOf(team.owner, project.id),
  };
}

async function workState(projectId: string) {
  return {
    states:
      await sql()`select id, name, category, position from workflow_states where project_id = ${projectId} order by position`,
    transitions:
      await sql()`select from_state_id, to_state_id from workflow_transitions where project_id = ${projectId} order by 1, 2`,
    restricted: (await sql()`select transitions_restricted from projects where id = ${projectId}`)[0]!
      .transitions_restricted,
    tasks:
      await sql()`select id, title, state_id, version, is_active, assignee_id from tasks where project_id = ${projectId} order by number`,
    events: (
      await sql()`select count(*)::int as n from task_events e join tasks t on t.id = e.task_id where t.project_id = ${projectId}`
    )[0]!.n,
  };
}

describe('the task and workflow access matrix', () => {
  for (const route of TASK_ROUTES) {
    describe(route.name, () => {
      for (const caller of CALLERS) {
        const status = route.expect[caller];
        it(`${caller} -> ${status}`, async () => {
          const f = await fixture();
          await expectCell(team, caller, status, route.request(f, team), () => workState(f.projectId));
        });
      }
    });
  }

  it('GET /tasks?assignee=me: any active user (their own tasks only); 401 anonymous, 403 deactivated', async () => {
    const f = await fixture();
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
