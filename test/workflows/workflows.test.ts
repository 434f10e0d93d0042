import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, databaseTraffic, expectProblem } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask, statesOf, transition } from '../support/tasks.ts';
import { createUser } from '../support/users.ts';

const names = (states: { name: string }[]) => states.map((state) => state.name);

async function ownedProject() {
  const owner = await createUser();
  const project = await createProjectWithMembers(owner);
  return { owner, project, statesPath: `/projects/${project.id}/states` };
}

describe('the default workflow', () => {
  it('every new project starts with Backlog, To do, In progress, In review, Done, Canceled, in one statement', async () => {
    const { owner, statesPath } = await ownedProject();
    const res = await call('GET', statesPath, { token: owner.token });
    expect(
      res.body.map((state: { name: string; category: string; position: number }) => [
        state.name,
        state.category,
        state.position,
      ]),
    ).toEqual([
      ['Backlog', 'backlog', 0],
      ['To do', 'unstarted', 1],
      ['In progress', 'started', 2],
      ['In review', 'started', 3],
      ['Done', 'completed', 4],
      ['Canceled', 'canceled', 5],
    ]);
    expect(databaseTraffic(res)).toEqual({ statements: 1, roundTrips: 1 });
  });

  it('counts the tasks in each state, not the deleted ones', async () => {
    const { owner, project, statesPath } = await ownedProject();
    const states = await statesOf(owner, project.id);
    await createTask(owner, project.id);
    const gone = await createTask(owner, project.id);
    await call('DELETE', `/tasks/${gone.id}`, { token: owner.token });
    await createTask(owner, project.id, { state_id: states.Done!.id });
    const counts = Object.fromEntries(
      (await call('GET', statesPath, { token: owner.token })).body.map((s: { name: string; task_count: number }) => [
        s.name,
        s.task_count,
      ]),
    );
    expect(counts).toMatchObject({ 'To do': 1, Done: 1, Backlog: 0 });
  });
});

describe('states', () => {
  it('are added at a position (others move down) or last, renamed, moved and recategorised', async () => {
    const { owner, statesPath } = await ownedProject();
    const qa = await call('POST', statesPath, {
      token: owner.token,
      json: { name: 'QA', category: 'started', position: 3 },
    });
    expect(qa.status).toBe(201);
    expect(qa.body).toMatchObject({ name: 'QA', category: 'started', position: 3, task_count: 0 });
    const last = await call('POST', statesPath, {
      token: owner.token,
      json: { name: 'Archived', category: 'canceled' },
    });
    expect(last.body.position).toBe(7);
    expect(names((await call('GET', statesPath, { token: owner.token })).body)).toEqual([
      'Backlog',
      'To do',
      'In progress',
      'QA',
      'In review',
      'Done',
      'Canceled',
      'Archived',
    ]);

    const moved = await call('PATCH', `${statesPath}/${qa.body.id}`, {
      token: owner.token,
      json: { position: 0, name: 'Quality' },
    });
    expect(moved.body).toMatchObject({ name: 'Quality', position: 0 });
    expect(names((await call('GET', statesPath, { token: owner.token })).body)).toEqual([
      'Quality',
      'Backlog',
      'To do',
      'In progress',
      'In review',
      'Done',
      'Canceled',
      'Archived',
    ]);
    await call('PATCH', `${statesPath}/${qa.body.id}`, { token: owner.token, json: { position: 7 } });
    const final = (await call('GET', statesPath, { token: owner.token })).body;
    expect(names(final)).toEqual([
      'Backlog',
      'To do',
      'In progress',
      'In review',
      'Done',
      'Canceled',
      'Archived',
      'Quality',
    ]);
    expect(final.map((state: { position: number }) => state.position)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    const recategorised = await call('PATCH', `${statesPath}/${qa.body.id}`, {
      token: owner.token,
      json: { category: 'completed' },
    });
    expect(recategorised.body.category).toBe('completed');
  });

  it('refuse duplicate names case-insensitively, bad positions and bad input, changing nothing', async () => {
    const { owner, statesPath } = await ownedProject();
    const before = (await call('GET', statesPath, { token: owner.token })).body;
    expectProblem(
      await call('POST', statesPath, { token: owner.token, json: { name: 'in PROGRESS', category: 'started' } }),
      409,
    );
    expectProblem(
      await call('PATCH', `${statesPath}/${before[0].id}`, { token: owner.token, json: { name: 'DONE' } }),
      409,
    );
    for (const json of [
      { name: 'X', category: 'started', position: 7 },
      { name: '', category: 'started' },
      { name: 'X', category: 'doing' },
      { name: 'a\u0000', category: 'started' },
      { name: 'X' },
      { name: 'X', category: 'started', position: -1 },
      {},
    ]) {
      expectProblem(await call('POST', statesPath, { token: owner.token, json }), 422);
    }
    expectProblem(
      await call('PATCH', `${statesPath}/${before[0].id}`, { token: owner.token, json: { position: 6 } }),
      422,
    );
    expectProblem(await call('PATCH', `${statesPath}/${before[0].id}`, { token: owner.token, json: {} }), 422);
    expectProblem(
      await call('PATCH', `${statesPath}/${crypto.randomUUID()}`, { token: owner.token, json: { name: 'Y' } }),
      404,
    );
    expect((await call('GET', statesPath, { token: owner.token })).body).toEqual(before);
  });

  it('keep somewhere to start and somewhere to finish (409)', async () => {
    const { owner, project, statesPath } = await ownedProject();
    const states = await statesOf(owner, project.id);
    expectProblem(await call('DELETE', `${statesPath}/${states.Done!.id}`, { token: owner.token }), 409);
    expectProblem(
      await call('PATCH', `${statesPath}/${states.Done!.id}`, { token: owner.token, json: { category: 'canceled' } }),
      409,
    );
    expect((await call('DELETE', `${statesPath}/${states.Backlog!.id}`, { token: owner.token })).status).toBe(204);
    expectProblem(await call('DELETE', `${statesPath}/${states['To do']!.id}`, { token: owner.token }), 409);
    expectProblem(
      await call('PATCH', `${statesPath}/${states['To do']!.id}`, {
        token: owner.token,
        json: { category: 'started' },
      }),
      409,
    );
    expect(names((await call('GET', statesPath, { token: owner.token })).body)).toEqual([
      'To do',
      'In progress',
      'In review',
      'Done',
      'Canceled',
    ]);
  });

  it('deleting a state that holds tasks needs move_to (409 with the count); with it, the tasks move and history records it', async () => {
    const { owner, project, statesPath } = await ownedProject();
    const states = await statesOf(owner, project.id);
    const a = await createTask(owner, project.id, { state_id: states['In review']!.id });
    const b = await createTask(owner, project.id, { state_id: states['In review']!.id });
    await call('DELETE', `/tasks/${b.id}`, { token: owner.token });
    const refused = expectProblem(
      await call('DELETE', `${statesPath}/${states['In review']!.id}`, { token: owner.token }),
      409,
      'state_not_empty',
    );
    // The detail says how many, for a person reading it.
    expect(refused.detail).toMatch(/2 task/);
    expectProblem(
      await call('DELETE', `${statesPath}/${states['In review']!.id}?move_to=${states['In review']!.id}`, {
        token: owner.token,
      }),
      422,
    );
    expectProblem(
      await call('DELETE', `${statesPath}/${states['In review']!.id}?move_to=${crypto.randomUUID()}`, {
        token: owner.token,
      }),
      422,
    );
    expectProblem(
      await call('DELETE', `${statesPath}/${states['In review']!.id}?move_to=nope`, { token: owner.token }),
      422,
    );

    expect(
      (
        await call('DELETE', `${statesPath}/${states['In review']!.id}?move_to=${states.Done!.id}`, {
          token: owner.token,
        })
      ).status,
    ).toBe(204);
    const moved = await sql()`select state_id, completed_at from tasks where id in ${sql()([a.id, b.id])}`;
    for (const row of moved) {
      expect(row.state_id).toBe(states.Done!.id);
      expect(row.completed_at).toBeInstanceOf(Date);
    }
    const history = await call('GET', `/tasks/${a.id}/history`, { token: owner.token });
    expect(history.body[0]).toMatchObject({
      kind: 'state',
      from: states['In review']!.id,
      to: states.Done!.id,
      actor_id: owner.id,
    });
    expect(names((await call('GET', statesPath, { token: owner.token })).body)).toEqual([
      'Backlog',
      'To do',
      'In progress',
      'Done',
      'Canceled',
    ]);
    expectProblem(await transition(owner, a.id, states['In review']!.id), 422);
  });
});

describe('transitions', () => {
  it('allow every move between different states by default, and only the listed ones once replaced', async () => {
    const { owner, project } = await ownedProject();
    const states = await statesOf(owner, project.id);
    const path = `/projects/${project.id}/transitions`;
    expect((await call('GET', path, { token: owner.token })).body).toEqual({ restricted: false, transitions: [] });
    const pairs = [
      { from_state_id: states['To do']!.id, to_state_id: states['In progress']!.id },
      { from_state_id: states['In progress']!.id, to_state_id: states.Done!.id },
      { from_state_id: states['In progress']!.id, to_state_id: states.Done!.id },
    ];
    const replaced = await call('PUT', path, { token: owner.token, json: pairs });
    expect(replaced.status).toBe(200);
    expect(replaced.body.restricted).toBe(true);
    expect(replaced.body.transitions).toHaveLength(2);
    expect((await call('GET', path, { token: owner.token })).body).toEqual(replaced.body);
    const task = await createTask(owner, project.id);
    expectProblem(await transition(owner, task.id, states.Done!.id), 409);
    expect((await transition(owner, task.id, states['In progress']!.id)).status).toBe(200);
    expect((await transition(owner, task.id, states.Done!.id)).status).toBe(200);
  });

  it('refuse pairs outside the project or within one state (422), changing nothing', async () => {
    const { owner, project } = await ownedProject();
    const other = await createProjectWithMembers(owner);
    const states = await statesOf(owner, project.id);
    const foreign = await statesOf(owner, other.id);
    const path = `/projects/${project.id}/transitions`;
    for (const json of [
      [{ from_state_id: states['To do']!.id, to_state_id: states['To do']!.id }],
      [{ from_state_id: states['To do']!.id, to_state_id: foreign.Done!.id }],
      [{ from_state_id: 'x', to_state_id: states.Done!.id }],
      { from_state_id: states['To do']!.id, to_state_id: states.Done!.id },
      [null],
    ]) {
      expectProblem(await call('PUT', path, { token: owner.token, json }), 422);
    }
    expect((await call('GET', path, { token: owner.token })).body).toEqual({ restricted: false, transitions: [] });
    expect(
      (await sql()`select transitions_restricted from projects where id = ${project.id}`)[0]!.transitions_restricted,
    ).toBe(false);
  });
});

describe('limits', () => {
  it('a project has at most 50 states (409 state_limit_reached), and an unrestricted one lists no pairs however many it has', async () => {
    const { owner, project } = await ownedProject();
    const existing = (await call('GET', `/projects/${project.id}/states`, { token: owner.token })).body.length;
    const created = await Promise.all(
      Array.from({ length: 50 - existing }, (_, i) =>
        call('POST', `/projects/${project.id}/states`, {
          token: owner.token,
          json: { name: `Extra ${i}`, category: 'started' },
        }),
      ),
    );
    expect(created.map((res) => res.status)).toEqual(created.map(() => 201));
    // Concurrent creates queue on the project row, so the cap holds however they race.
    const over = await Promise.all(
      [0, 1, 2].map((i) =>
        call('POST', `/projects/${project.id}/states`, {
          token: owner.token,
          json: { name: `Over ${i}`, category: 'started' },
        }),
      ),
    );
    for (const res of over) expect((expectProblem(res, 409) as { code?: string }).code).toBe('state_limit_reached');
    const [count] = await sql()`select count(*)::int as n from workflow_states where project_id = ${project.id}`;
    expect(count!.n).toBe(50);
    const transitions = await call('GET', `/projects/${project.id}/transitions`, { token: owner.token });
    expect(transitions.body).toEqual({ restricted: false, transitions: [] });
    expect(transitions.text.length).toBeLessThan(100);
  });

  it('replacing transitions takes at most 6320 pairs (every move between 80 states) (422 beyond)', async () => {
    const { owner, project } = await ownedProject();
    const states = await statesOf(owner, project.id);
    const pair = { from_state_id: states['To do']!.id, to_state_id: states.Done!.id };
    expectProblem(
      await call('PUT', `/projects/${project.id}/transitions`, { token: owner.token, json: Array(6321).fill(pair) }),
      422,
    );
    const accepted = await call('PUT', `/projects/${project.id}/transitions`, {
      token: owner.token,
      json: Array(6320).fill(pair),
    });
    expect(accepted.body.transitions).toHaveLength(1);
  });
});
