import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, linkTarget } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createTask, statesOf } from '../support/tasks.ts';
import { createUser } from '../support/users.ts';

describe('position keys stay short', () => {
  it('5,000 alternating moves between the same neighbours: keys stay within 32 characters, the order holds, sort=position pages to the end', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const todo = (await statesOf(owner, project.id))['To do']!.id;
    const [first, x, y, last] = [
      await createTask(owner, project.id, { state_id: todo, title: 'first' }),
      await createTask(owner, project.id, { state_id: todo, title: 'x' }),
      await createTask(owner, project.id, { state_id: todo, title: 'y' }),
      await createTask(owner, project.id, { state_id: todo, title: 'last' }),
    ];
    let longest = 0;
    for (let move = 0; move < 5000; move++) {
      // Each move puts one of the two right after `first`, so its key lies between `first` and the other's.
      const moved = move % 2 === 0 ? x : y;
      const res = await call('PATCH', `/tasks/${moved.id}`, { token: owner.token, json: { after_id: first.id } });
      expect(res.status, res.text).toBe(200);
      longest = Math.max(longest, res.body.position.length);
    }
    expect(longest).toBeLessThanOrEqual(32);
    const keys =
      await sql()`select id, position from tasks where state_id = ${todo} and project_id = ${project.id} order by position collate "C", number`;
    // The last move (number 4999, odd) placed y right after first.
    expect(keys.map((row) => row.id)).toEqual([first.id, y.id, x.id, last.id]);
    expect(Math.max(...keys.map((row) => row.position.length))).toBeLessThanOrEqual(32);
    // Later tasks still sort after the moved ones.
    const later = await createTask(owner, project.id, { state_id: todo, title: 'later' });
    const walked: string[] = [];
    let next: string | undefined = `/projects/${project.id}/tasks?state_id=${todo}&sort=position&limit=1`;
    while (next) {
      const page = await call('GET', next, { token: owner.token });
      expect(page.status, page.text).toBe(200);
      walked.push(...page.body.map((task: { id: string }) => task.id));
      next = linkTarget(page, 'next');
    }
    expect(walked).toEqual([first.id, y.id, x.id, last.id, later.id]);
  }, 300_000);
});
