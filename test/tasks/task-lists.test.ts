import { describe, expect, it } from 'vitest';
import { call, databaseTraffic, expectProblem, linkTarget, type ApiResponse } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask, statesOf, transition } from '../support/tasks.ts';
import { createUser } from '../support/users.ts';

const numbers = (res: ApiResponse) => res.body.map((task: { number: number }) => task.number);

async function walk(path: string, token: string): Promise<ApiResponse[]> {
  const pages: ApiResponse[] = [];
  let next: string | undefined = path;
  while (next) {
    const page = await call('GET', next, { token });
    expect(page.status, page.text).toBe(200);
    pages.push(page);
    next = linkTarget(page, 'next');
  }
  return pages;
}

async function seeded() {
  const owner = await createUser();
  const grace = await createUser();
  const project = await createProjectWithMembers(owner, [[grace, 'editor']]);
  const states = await statesOf(owner, project.id);
  const specs = [
    { title: 'Alpha launch', priority: 'high', due_date: '2026-12-01', assignee_id: grace.id },
    { title: 'Beta docs', priority: 'low', due_date: '2026-11-30' },
    { title: 'alpha review', priority: 'urgent', assignee_id: owner.id },
    { title: 'Gamma', priority: 'none', due_date: '2027-01-15', assignee_id: grace.id },
    { title: 'Delta', priority: 'medium', due_date: '2026-12-01' },
  ];
  const tasks = [];
  for (const spec of specs) tasks.push(await createTask(owner, project.id, spec));
  await transition(owner, tasks[1]!.id, states['In progress']!.id);
  await transition(owner, tasks[3]!.id, states.Done!.id);
  return { owner, grace, project, states, tasks };
}

describe('GET /projects/{id}/tasks', () => {
  it('lists newest first in one statement, with filters for state, category, assignee, priority, due dates and title', async () => {
    const { owner, grace, project, states } = await seeded();
    const base = `/projects/${project.id}/tasks`;
    const all = await call('GET', base, { token: grace.token });
    expect(numbers(all)).toEqual([5, 4, 3, 2, 1]);
    expect(all.headers.get('X-Total-Count')).toBe('5');
    expect(databaseTraffic(all)).toEqual({ statements: 1, roundTrips: 1 });
    const cases: [string, number[]][] = [
      [`state_id=${states['In progress']!.id}`, [2]],
      ['category=unstarted', [5, 3, 1]],
      ['category=completed', [4]],
      [`assignee_id=${grace.id}`, [4, 1]],
      ['assignee_id=me', [4, 1]],
      ['assignee_id=none', [5, 2]],
      ['priority=urgent', [3]],
      ['due_before=2026-12-01', [5, 2, 1]],
      ['due_after=2026-12-01', [5, 4, 1]],
      ['due_after=2026-12-01&due_before=2026-12-01', [5, 1]],
      ['q=ALPHA', [3, 1]],
      ['q=%25', []],
      [`assignee_id=${owner.id}&priority=urgent`, [3]],
    ];
    for (const [query, expected] of cases) {
      const res = await call('GET', `${base}?${query}`, { token: grace.token });
      expect(numbers(res), query).toEqual(expected);
      expect(res.headers.get('X-Total-Count'), query).toBe(String(expected.length));
    }
  });

  it('sorts by every field both ways, and cursor pages walk each order exactly', async () => {
    const { owner, project } = await seeded();
    const expectations: Record<string, number[]> = {
      number: [1, 2, 3, 4, 5],
      '-number': [5, 4, 3, 2, 1],
      priority: [4, 2, 5, 1, 3],
      '-priority': [3, 1, 5, 2, 4],
      due_date: [2, 1, 5, 4, 3],
      created_at: [1, 2, 3, 4, 5],
      position: [1, 2, 3, 4, 5],
    };
    for (const [sort, expected] of Object.entries(expectations)) {
      const pages = await walk(`/projects/${project.id}/tasks?sort=${sort}&limit=2`, owner.token);
      expect(pages.flatMap(numbers), sort).toEqual(expected);
      expect(pages).toHaveLength(3);
    }
    const updated = await walk(`/projects/${project.id}/tasks?sort=-updated_at&limit=2`, owner.token);
    expect(updated.flatMap(numbers).sort()).toEqual([1, 2, 3, 4, 5]);
  });

  it('refuses bad filters and cursors (422) and non-members (404)', async () => {
    const { owner, project } = await seeded();
    const base = `/projects/${project.id}/tasks`;
    const first = await call('GET', `${base}?limit=1`, { token: owner.token });
    const cursor = new URLSearchParams(linkTarget(first, 'next')!.split('?')[1]).get('cursor')!;
    for (const query of [
      'sort=title',
      'priority=extreme',
      'category=doing',
      'assignee_id=someone',
      'due_before=2026-02-30',
      'state_id=x',
      'include_deleted=yes',
      `cursor=${cursor}&sort=priority`,
      `q=${'q'.repeat(201)}`,
    ]) {
      expectProblem(await call('GET', `${base}?${query}`, { token: owner.token }), 422);
    }
    expectProblem(await call('GET', base, { token: (await createUser()).token }), 404);
  });
});

describe('GET /tasks?assignee=me', () => {
  it('lists the caller’s open tasks across their projects, in one statement, with the same filters', async () => {
    const { grace, project, states, tasks } = await seeded();
    const second = await createProjectWithMembers(await createUser(), [[grace, 'viewer']]);
    const elsewhere = await createTask(grace, (await createProjectWithMembers(grace)).id, {
      title: 'Own project',
      assignee_id: grace.id,
      priority: 'urgent',
    });
    const mine = await call('GET', '/tasks?assignee=me', { token: grace.token });
    // Task 4 is done, so not open; Task 1 and the own-project task are.
    expect(mine.body.map((task: { id: string }) => task.id)).toEqual([elsewhere.id, tasks[0]!.id]);
    expect(databaseTraffic(mine)).toEqual({ statements: 1, roundTrips: 1 });
    expect(
      (await call('GET', `/tasks?assignee=me&project_id=${project.id}`, { token: grace.token })).body.map(
        (t: { id: string }) => t.id,
      ),
    ).toEqual([tasks[0]!.id]);
    expect(
      (await call('GET', '/tasks?assignee=me&priority=urgent', { token: grace.token })).body.map(
        (t: { id: string }) => t.id,
      ),
    ).toEqual([elsewhere.id]);
    expect(
      (await call('GET', `/tasks?assignee=me&state_id=${states['To do']!.id}`, { token: grace.token })).body.map(
        (t: { id: string }) => t.id,
      ),
    ).toEqual([tasks[0]!.id]);
    const pages = await walk('/tasks?assignee=me&limit=1&sort=priority', grace.token);
    expect(pages.flatMap((page) => page.body.map((t: { id: string }) => t.id))).toEqual([tasks[0]!.id, elsewhere.id]);
    expect(second).toBeDefined();
  });

  it('drops tasks of projects the caller can no longer read', async () => {
    const { owner, grace, project, tasks } = await seeded();
    expect(
      (await call('GET', '/tasks?assignee=me', { token: grace.token })).body.map((t: { id: string }) => t.id),
    ).toContain(tasks[0]!.id);
    await call('DELETE', `/projects/${project.id}`, { token: owner.token });
    expect(
      (await call('GET', '/tasks?assignee=me', { token: grace.token })).body.map((t: { id: string }) => t.id),
    ).not.toContain(tasks[0]!.id);
  });

  it('needs assignee=me (422 otherwise)', async () => {
    const user = await createUser();
    for (const query of ['', '?assignee=you', '?assignee=me&sort=nope'])
      expectProblem(await call('GET', `/tasks${query}`, { token: user.token }), 422);
  });
});

describe('GET /tasks/{id}/history', () => {
  it('pages newest first by cursor', async () => {
    const { owner, project, states } = await seeded();
    const task = await createTask(owner, project.id);
    for (const state of ['In progress', 'In review', 'Done', 'To do'])
      await transition(owner, task.id, states[state]!.id);
    const pages = await walk(`/tasks/${task.id}/history?limit=2`, owner.token);
    const entries = pages.flatMap((page) => page.body);
    expect(entries.map((entry: { to: string }) => entry.to)).toEqual(
      ['To do', 'Done', 'In review', 'In progress', 'To do'].map((name) => states[name]!.id),
    );
    expect(pages[0]!.headers.get('X-Total-Count')).toBe('5');
  });
});
