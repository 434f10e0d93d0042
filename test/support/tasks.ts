import { sql } from './db.ts';
import { call } from './http.ts';
import type { TestUser } from './users.ts';

export interface State {
  id: string;
  name: string;
  category: string;
  position: number;
  task_count: number;
}

/** The project's states by name (the default workflow: Backlog, To do, In progress, In review, Done, Canceled). */
export async function statesOf(user: TestUser, projectId: string): Promise<Record<string, State>> {
  const res = await call('GET', `/projects/${projectId}/states`, { token: user.token });
  if (res.status !== 200) throw new Error(`states failed: ${res.status} ${res.text}`);
  return Object.fromEntries((res.body as State[]).map((state) => [state.name, state]));
}

export async function createTask(user: TestUser, projectId: string, json: Record<string, unknown> = {}) {
  const res = await call('POST', `/projects/${projectId}/tasks`, {
    token: user.token,
    json: { title: `Task ${crypto.randomUUID().slice(0, 6)}`, ...json },
  });
  if (res.status !== 201) throw new Error(`task create failed: ${res.status} ${res.text}`);
  return res.body as {
    id: string;
    number: number;
    version: number;
    position: string;
    state: { id: string; name: string; category: string };
  } & Record<string, any>;
}

export const transition = (user: TestUser, taskId: string, toStateId: string, headers: Record<string, string> = {}) =>
  call('POST', `/tasks/${taskId}/transition`, { token: user.token, json: { to_state_id: toStateId }, headers });

/** What a refused task request must leave untouched: the task row and its history. */
export async function taskState(taskId: string) {
  const [task] =
    await sql()`select title, description, state_id, priority, assignee_id, due_date::text, position, version, is_active,
                                    started_at, completed_at, canceled_at from tasks where id = ${taskId}`;
  const events = await sql()`select kind, from_id, to_id from task_events where task_id = ${taskId} order by id`;
  return { task, events };
}

/** What a refused task or workflow request must leave untouched: states, transitions, tasks, their history. */
export async function workState(projectId: string) {
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
