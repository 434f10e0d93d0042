import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask, statesOf, taskState, transition } from '../support/tasks.ts';
import { createUser } from '../support/users.ts';

async function team() {
  const owner = await createUser({ label: 'owner' });
  const editor = await createUser({ label: 'editor' });
  const viewer = await createUser({ label: 'viewer' });
  const project = await createProjectWithMembers(owner, [
    [editor, 'editor'],
    [viewer, 'viewer'],
  ]);
  return { owner, editor, viewer, project, states: await statesOf(owner, project.id) };
}

describe('POST /projects/{id}/tasks', () => {
  it('creates a task with number 1, in the first unstarted state, with an ETag, in one statement', async () => {
    const { editor, project, states } = await team();
    const res = await call('POST', `/projects/${project.id}/tasks`, {
      token: editor.token,
      json: {
        title: '  Write the post  ',
        description: 'Line one\nLine two',
        priority: 'high',
        due_date: '2026-12-24',
        id: crypto.randomUUID(),
        number: 99,
        version: 7,
      },
    });
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({
      project_id: project.id,
      number: 1,
      title: 'Write the post',
      description: 'Line one\nLine two',
      state: { id: states['To do']!.id, name: 'To do', category: 'unstarted' },
      priority: 'high',
      assignee_id: null,
      due_date: '2026-12-24',
      created_by: editor.id,
      started_at: null,
      completed_at: null,
      canceled_at: null,
      version: 1,
      is_active: true,
      deleted_at: null,
    });
    expect(res.headers.get('ETag')).toBe('"1"');
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
    const history = await call('GET', `/tasks/${res.body.id}/history`, { token: editor.token });
    expect(history.body).toEqual([
      expect.objectContaining({ kind: 'state', from: null, to: states['To do']!.id, actor_id: editor.id }),
    ]);
  });

  it('starts in a named state with that category’s timestamp, and records an initial assignment', async () => {
    const { owner, editor, project, states } = await team();
    const started = await createTask(editor, project.id, {
      state_id: states['In progress']!.id,
      assignee_id: owner.id,
    });
    expect(started.state.category).toBe('started');
    expect(started.started_at).toEqual(expect.any(String));
    expect(started.assignee_id).toBe(owner.id);
    const done = await createTask(editor, project.id, { state_id: states.Done!.id });
    expect(done.completed_at).toEqual(expect.any(String));
    expect(done.started_at).toBeNull();
    const history = await call('GET', `/tasks/${started.id}/history`, { token: editor.token });
    expect(history.body.map((entry: { kind: string }) => entry.kind).sort()).toEqual(['assignee', 'state']);
  });

  it('numbers 16 concurrent creates 1-16, with no gap and no duplicate; refused creates leave no gap', async () => {
    const { editor, viewer, project } = await team();
    expectProblem(
      await call('POST', `/projects/${project.id}/tasks`, { token: viewer.token, json: { title: 'Refused' } }),
      403,
    );
    expectProblem(
      await call('POST', `/projects/${project.id}/tasks`, {
        token: editor.token,
        json: { title: 'Bad state', state_id: crypto.randomUUID() },
      }),
      422,
    );
    const results = await Promise.all(
      Array.from({ length: 16 }, (_, i) =>
        call('POST', `/projects/${project.id}/tasks`, { token: editor.token, json: { title: `Parallel ${i}` } }),
      ),
    );
    expect(results.map((res) => res.status)).toEqual(Array(16).fill(201));
    const numbers = (await sql()`select number from tasks where project_id = ${project.id} order by number`).map(
      (row) => row.number,
    );
    expect(numbers).toEqual(Array.from({ length: 16 }, (_, i) => i + 1));
    expect((await createTask(editor, project.id)).number).toBe(17);
  });

  it('refuses bad input with 4xx and creates nothing', async () => {
    const { owner, editor, project, states } = await team();
    const other = await createProjectWithMembers(owner);
    const otherStates = await statesOf(owner, other.id);
    const outsider = await createUser();
    const sleeper = await createUser();
    await sql()`insert into project_members (project_id, user_id, role, project_created_at) values (${project.id}, ${sleeper.id}, 'viewer', now())`;
    await sql()`update users set is_active = false where id = ${sleeper.id}`;
    const cases: [unknown, number][] = [
      [{}, 422],
      [{ title: '' }, 422],
      [{ title: 'x'.repeat(201) }, 422],
      [{ title: 'two\nlines' }, 422],
      [{ title: 'ok', description: 'd'.repeat(20_001) }, 422],
      [{ title: 'ok', priority: 'critical' }, 422],
      [{ title: 'ok', due_date: '2026-02-30' }, 422],
      [{ title: 'ok', due_date: '24/12/2026' }, 422],
      [{ title: 'ok', state_id: otherStates['To do']!.id }, 422],
      [{ title: 'ok', state_id: 'not-a-uuid' }, 422],
      [{ title: 'ok', assignee_id: outsider.id }, 422],
      [{ title: 'ok', assignee_id: sleeper.id }, 422],
      [{ title: 'ok', assignee_id: 'nope' }, 422],
      [null, 422],
    ];
    for (const [json, status] of cases) {
      expectProblem(await call('POST', `/projects/${project.id}/tasks`, { token: editor.token, json }), status);
    }
    expect((await sql()`select count(*)::int as n from tasks where project_id = ${project.id}`)[0]!.n).toBe(0);
    expect(states['To do']).toBeDefined();
  });
});

describe('transitions', () => {
  it('set started_at once, completed_at or canceled_at while there, and clear them on the way back', async () => {
    const { owner, editor, project, states } = await team();
    const task = await createTask(editor, project.id);
    const started = await transition(editor, task.id, states['In progress']!.id);
    expect(started.status).toBe(200);
    expect(databaseTraffic(started)).toEqual({ statements: 1, roundTrips: 1 });
    const startedAt = started.body.started_at;
    expect(startedAt).toEqual(expect.any(String));
    const review = await transition(editor, task.id, states['In review']!.id);
    expect(review.body.started_at).toBe(startedAt);
    const done = await transition(editor, task.id, states.Done!.id);
    expect(done.body).toMatchObject({
      started_at: startedAt,
      completed_at: expect.any(String),
      canceled_at: null,
      version: 4,
    });
    const reopened = await transition(editor, task.id, states['To do']!.id);
    expect(reopened.body).toMatchObject({ started_at: startedAt, completed_at: null, canceled_at: null });
    const canceled = await transition(editor, task.id, states.Canceled!.id);
    expect(canceled.body).toMatchObject({ completed_at: null, canceled_at: expect.any(String) });
    // Timestamps follow the category, not the name.
    expect(
      (
        await call('PATCH', `/projects/${project.id}/states/${states.Done!.id}`, {
          token: owner.token,
          json: { name: 'Shipped' },
        })
      ).status,
    ).toBe(200);
    expect((await transition(editor, task.id, states.Done!.id)).body).toMatchObject({
      state: { name: 'Shipped' },
      completed_at: expect.any(String),
      canceled_at: null,
    });
    const history = await call('GET', `/tasks/${task.id}/history`, { token: editor.token });
    expect(
      history.body.filter((entry: { kind: string }) => entry.kind === 'state').map((entry: { to: string }) => entry.to),
    ).toEqual([
      states.Done!.id,
      states.Canceled!.id,
      states['To do']!.id,
      states.Done!.id,
      states['In review']!.id,
      states['In progress']!.id,
      states['To do']!.id,
    ]);
  });

  it('refuse the current state (409), a state of another project or an unknown one (422), changing nothing', async () => {
    const { owner, editor, project, states } = await team();
    const task = await createTask(editor, project.id);
    const other = await createProjectWithMembers(owner);
    const before = await taskState(task.id);
    expectProblem(await transition(editor, task.id, states['To do']!.id), 409);
    expectProblem(await transition(editor, task.id, (await statesOf(owner, other.id))['In progress']!.id), 422);
    expectProblem(await transition(editor, task.id, crypto.randomUUID()), 422);
    expectProblem(
      await call('POST', `/tasks/${task.id}/transition`, { token: editor.token, json: { to_state_id: 'x' } }),
      422,
    );
    // A deleted state.
    const doomed = (
      await call('POST', `/projects/${project.id}/states`, {
        token: owner.token,
        json: { name: 'Doomed', category: 'started' },
      })
    ).body;
    await call('DELETE', `/projects/${project.id}/states/${doomed.id}`, { token: owner.token });
    expectProblem(await transition(editor, task.id, doomed.id), 422);
    expect(await taskState(task.id)).toEqual(before);
  });

  it('honour a restricted set: 409 listing the allowed states, and nothing changes', async () => {
    const { owner, editor, project, states } = await team();
    const task = await createTask(editor, project.id);
    await call('PUT', `/projects/${project.id}/transitions`, {
      token: owner.token,
      json: [
        { from_state_id: states['To do']!.id, to_state_id: states['In progress']!.id },
        { from_state_id: states['To do']!.id, to_state_id: states.Canceled!.id },
      ],
    });
    const before = await taskState(task.id);
    const refused = expectProblem(await transition(editor, task.id, states.Done!.id), 409) as { allowed?: string[] };
    expect(refused.allowed).toEqual([states['In progress']!.id, states.Canceled!.id].sort());
    expect(await taskState(task.id)).toEqual(before);
    expect((await transition(editor, task.id, states['In progress']!.id)).status).toBe(200);
    // Nothing leads out of In progress now.
    expect(
      (expectProblem(await transition(editor, task.id, states.Done!.id), 409) as { allowed?: string[] }).allowed,
    ).toEqual([]);
  });

  it('two concurrent transitions with one ETag: exactly one wins', async () => {
    const { editor, project, states } = await team();
    const task = await createTask(editor, project.id);
    const results = await Promise.all([
      transition(editor, task.id, states['In progress']!.id, { 'If-Match': '"1"' }),
      transition(editor, task.id, states.Done!.id, { 'If-Match': '"1"' }),
      transition(editor, task.id, states.Canceled!.id, { 'If-Match': '"1"' }),
    ]);
    expect(results.map((res) => res.status).sort()).toEqual([200, 412, 412]);
    expect(results.find((res) => res.status === 412)!.headers.get('ETag')).toBe('"2"');
    const { events } = await taskState(task.id);
    expect(events.filter((event) => event.kind === 'state')).toHaveLength(2);
  });

  it('without If-Match, concurrent transitions take turns: each is judged from, and records, the state it really left', async () => {
    const { editor, project, states } = await team();
    const task = await createTask(editor, project.id);
    const targets = [states['In progress']!, states['In review']!, states.Done!, states.Canceled!];
    const results = await Promise.all(targets.map((state) => transition(editor, task.id, state.id)));
    // The guards read the task locked, so none of them judged a state that had already changed.
    expect(results.map((res) => res.status)).toEqual([200, 200, 200, 200]);
    const history = (
      await sql()`select from_id, to_id from task_events where task_id = ${task.id} and kind = 'state' order by id`
    ).slice(1);
    // Each move starts where the previous one ended.
    expect(history).toHaveLength(4);
    for (let i = 1; i < history.length; i++) expect(history[i]!.from_id).toBe(history[i - 1]!.to_id);
    const [row] = await sql()`select state_id from tasks where id = ${task.id}`;
    expect(row!.state_id).toBe(history.at(-1)!.to_id);
  });
});

describe('PATCH /tasks/{id}', () => {
  it('edits fields, records assignments, honours If-Match, and refuses state_id', async () => {
    const { owner, editor, project } = await team();
    const task = await createTask(editor, project.id);
    const res = await call('PATCH', `/tasks/${task.id}`, {
      token: editor.token,
      json: { title: 'Renamed', priority: 'urgent', assignee_id: owner.id, due_date: '2027-01-31', description: null },
      headers: { 'If-Match': '"1"' },
    });
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      title: 'Renamed',
      priority: 'urgent',
      assignee_id: owner.id,
      due_date: '2027-01-31',
      version: 2,
    });
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
    const stale = await call('PATCH', `/tasks/${task.id}`, {
      token: editor.token,
      json: { title: 'Lost' },
      headers: { 'If-Match': '"1"' },
    });
    expectProblem(stale, 412);
    expect(stale.headers.get('ETag')).toBe('"2"');
    const before = await taskState(task.id);
    expectProblem(
      await call('PATCH', `/tasks/${task.id}`, { token: editor.token, json: { state_id: crypto.randomUUID() } }),
      422,
    );
    expectProblem(
      await call('PATCH', `/tasks/${task.id}`, {
        token: editor.token,
        json: { title: 'x', state_id: crypto.randomUUID() },
      }),
      422,
    );
    expectProblem(await call('PATCH', `/tasks/${task.id}`, { token: editor.token, json: {} }), 422);
    expectProblem(
      await call('PATCH', `/tasks/${task.id}`, { token: editor.token, json: { assignee_id: (await createUser()).id } }),
      422,
    );
    expectProblem(
      await call('PATCH', `/tasks/${task.id}`, { token: editor.token, json: { due_date: '2026-02-30' } }),
      422,
    );
    expect(await taskState(task.id)).toEqual(before);
    await call('PATCH', `/tasks/${task.id}`, { token: editor.token, json: { assignee_id: null } });
    const assignments = (await taskState(task.id)).events.filter((event) => event.kind === 'assignee');
    expect(assignments.map((event) => [event.from_id, event.to_id])).toEqual([
      [null, owner.id],
      [owner.id, null],
    ]);
  });

  it('a member who leaves is unassigned from their tasks, with a history entry', async () => {
    const { owner, editor, project } = await team();
    const task = await createTask(owner, project.id, { assignee_id: editor.id });
    expect((await call('DELETE', `/projects/${project.id}/members/${editor.id}`, { token: editor.token })).status).toBe(
      204,
    );
    const { task: row, events } = await taskState(task.id);
    expect(row!.assignee_id).toBeNull();
    expect(events.at(-1)).toMatchObject({ kind: 'assignee', from_id: editor.id, to_id: null });
    expectProblem(await call('GET', `/tasks/${task.id}`, { token: editor.token }), 404);
  });
});

describe('soft delete and restore', () => {
  it('hides a deleted task from viewers and editors, shows it to managers, and restores it', async () => {
    const { owner, editor, viewer, project } = await team();
    const task = await createTask(editor, project.id);
    const deleted = await call('DELETE', `/tasks/${task.id}`, { token: editor.token, headers: { 'If-Match': '"1"' } });
    expect(deleted.body).toMatchObject({ is_active: false, deleted_at: expect.any(String), version: 2 });
    expectProblem(await call('GET', `/tasks/${task.id}`, { token: viewer.token }), 404);
    expectProblem(await call('GET', `/tasks/${task.id}`, { token: editor.token }), 404);
    expect((await call('GET', `/tasks/${task.id}`, { token: owner.token })).status).toBe(200);
    expectProblem(await call('PATCH', `/tasks/${task.id}`, { token: owner.token, json: { title: 'x' } }), 404);
    expectProblem(await call('DELETE', `/tasks/${task.id}`, { token: owner.token }), 404);
    expectProblem(
      await call('GET', `/projects/${project.id}/tasks?include_deleted=true`, { token: editor.token }),
      403,
    );
    const listed = await call('GET', `/projects/${project.id}/tasks?include_deleted=true`, { token: owner.token });
    expect(listed.body.map((t: { id: string }) => t.id)).toEqual([task.id]);
    expect((await call('GET', `/projects/${project.id}/tasks`, { token: owner.token })).body).toEqual([]);
    const restored = await call('POST', `/tasks/${task.id}/restore`, { token: editor.token });
    expect(restored.body).toMatchObject({ is_active: true, deleted_at: null, version: 3 });
    expectProblem(await call('POST', `/tasks/${task.id}/restore`, { token: editor.token }), 409);
  });

  it('a task of a soft-deleted project is reachable only by admins', async () => {
    const { owner, editor, project } = await team();
    const admin = await createUser({ role: 'admin' });
    const task = await createTask(editor, project.id);
    await call('DELETE', `/projects/${project.id}`, { token: owner.token });
    expectProblem(await call('GET', `/tasks/${task.id}`, { token: owner.token }), 404);
    expectProblem(await call('GET', `/tasks/${task.id}/history`, { token: editor.token }), 404);
    expectProblem(await transition(owner, task.id, crypto.randomUUID()), 404);
    expect((await call('GET', `/tasks/${task.id}`, { token: admin.token })).status).toBe(200);
    expect((await call('GET', `/tasks/${task.id}/history`, { token: admin.token })).status).toBe(200);
    // Changes need an active project, for admins too.
    expectProblem(
      await call('POST', `/projects/${project.id}/tasks`, { token: admin.token, json: { title: 'x' } }),
      404,
    );
    expectProblem(await call('PATCH', `/tasks/${task.id}`, { token: admin.token, json: { title: 'x' } }), 404);
    expectProblem(
      await transition(
        admin,
        task.id,
        (
          await sql()`select id from workflow_states where project_id = ${project.id} and category = 'started' limit 1`
        )[0]!.id,
      ),
      404,
    );
    expectProblem(await call('DELETE', `/tasks/${task.id}`, { token: admin.token }), 404);
  });
});

describe('GET /tasks/{id}', () => {
  it('reads in one statement, honours If-None-Match, and answers 404 to non-members and unknown ids', async () => {
    const { editor, viewer, project } = await team();
    const task = await createTask(editor, project.id);
    const res = await call('GET', `/tasks/${task.id}`, { token: viewer.token });
    expect(res.body).toMatchObject({ id: task.id, number: 1 });
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
    expect(
      (await call('GET', `/tasks/${task.id}`, { token: viewer.token, headers: { 'If-None-Match': '"1"' } })).status,
    ).toBe(304);
    expectProblem(await call('GET', `/tasks/${task.id}`, { token: (await createUser()).token }), 404);
    expectProblem(await call('GET', `/tasks/${crypto.randomUUID()}`, { token: viewer.token }), 404);
    expectProblem(await call('GET', '/tasks/not-a-uuid', { token: viewer.token }), 422);
  });
});
