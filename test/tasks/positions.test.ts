import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask, statesOf, taskState, transition } from '../support/tasks.ts';
import { createUser } from '../support/users.ts';

/** The task ids of a state in their manual order, as the list shows it. */
async function order(token: string, projectId: string, stateId: string): Promise<number[]> {
  const res = await call('GET', `/projects/${projectId}/tasks?state_id=${stateId}&sort=position&limit=100`, { token });
  return res.body.map((task: { number: number }) => task.number);
}

describe('manual order within a state', () => {
  it('moves a task before or after another, writing only the moved row', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const states = await statesOf(owner, project.id);
    const tasks = [];
    for (let i = 0; i < 4; i++) tasks.push(await createTask(owner, project.id));
    const todo = states['To do']!.id;
    expect(await order(owner.token, project.id, todo)).toEqual([1, 2, 3, 4]);

    const moved = await call('PATCH', `/tasks/${tasks[3]!.id}`, {
      token: owner.token,
      json: { before_id: tasks[0]!.id },
    });
    expect(moved.status).toBe(200);
    expect(await order(owner.token, project.id, todo)).toEqual([4, 1, 2, 3]);
    const versions = await sql()`select number, version from tasks where project_id = ${project.id} order by number`;
    expect(versions.map((row) => row.version)).toEqual([1, 1, 1, 2]);

    await call('PATCH', `/tasks/${tasks[0]!.id}`, { token: owner.token, json: { after_id: tasks[2]!.id } });
    expect(await order(owner.token, project.id, todo)).toEqual([4, 2, 3, 1]);
    await call('PATCH', `/tasks/${tasks[1]!.id}`, {
      token: owner.token,
      json: { after_id: tasks[0]!.id, title: 'Moved and renamed' },
    });
    expect(await order(owner.token, project.id, todo)).toEqual([4, 3, 1, 2]);
    // New tasks still arrive at the end.
    await createTask(owner, project.id);
    expect(await order(owner.token, project.id, todo)).toEqual([4, 3, 1, 2, 5]);
  });

  it('refuses anchors in another state, deleted, unknown, the task itself, or both at once (422), changing nothing', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const states = await statesOf(owner, project.id);
    const [a, b, c] = [
      await createTask(owner, project.id),
      await createTask(owner, project.id),
      await createTask(owner, project.id),
    ];
    await transition(owner, c.id, states['In progress']!.id);
    const d = await createTask(owner, project.id);
    await call('DELETE', `/tasks/${d.id}`, { token: owner.token });
    const before = await taskState(a.id);
    for (const json of [
      { after_id: c.id },
      { after_id: d.id },
      { before_id: crypto.randomUUID() },
      { after_id: a.id },
      { before_id: b.id, after_id: b.id },
      { before_id: 'x' },
    ]) {
      expectProblem(await call('PATCH', `/tasks/${a.id}`, { token: owner.token, json }), 422);
    }
    expect(await taskState(a.id)).toEqual(before);
  });

  it('concurrent moves into the same gap never collide: every task keeps a distinct place', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const states = await statesOf(owner, project.id);
    const tasks = [];
    for (let i = 0; i < 10; i++) tasks.push(await createTask(owner, project.id));
    const anchor = tasks[0]!;
    const results = await Promise.all(
      tasks
        .slice(2)
        .map((task) => call('PATCH', `/tasks/${task.id}`, { token: owner.token, json: { after_id: anchor.id } })),
    );
    expect(results.map((res) => res.status)).toEqual(Array(8).fill(200));
    const positions = (await sql()`select position from tasks where project_id = ${project.id}`).map(
      (row) => row.position as string,
    );
    expect(new Set(positions).size).toBe(10);
    const listed = await order(owner.token, project.id, states['To do']!.id);
    // The anchor first, the untouched task last, the eight moved ones between them in some order.
    expect(listed[0]).toBe(1);
    expect(listed.at(-1)).toBe(2);
    expect(listed.slice(1, -1).sort((x, y) => x - y)).toEqual([3, 4, 5, 6, 7, 8, 9, 10]);
  });
});
