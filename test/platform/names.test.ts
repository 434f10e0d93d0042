import { describe, expect, it } from 'vitest';
import { call, expectProblem } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { statesOf } from '../support/tasks.ts';
import { createUser } from '../support/users.ts';

describe('single-line names', () => {
  const invisible: [string, string][] = [
    ['a right-to-left override', 'Invoice\u202Egnp.exe'],
    ['a zero-width space', 'Pay\u200Broll'],
    ['a zero-width no-break space inside (a leading one is trimmed like a space)', 'Laun\uFEFFch'],
    ['a left-to-right isolate', 'Plan \u2066A\u2069'],
    ['a soft hyphen', 'Road\u00ADmap'],
  ];

  for (const [label, name] of invisible) {
    it(`refuse ${label} (422), in project, task and state names and full names alike`, async () => {
      const owner = await createUser();
      const project = await createProjectWithMembers(owner);
      const todo = (await statesOf(owner, project.id))['To do']!.id;
      const attempts = [
        call('POST', '/projects', { token: owner.token, json: { name } }),
        call('PATCH', `/projects/${project.id}`, { token: owner.token, json: { name } }),
        call('POST', `/projects/${project.id}/tasks`, { token: owner.token, json: { title: name, state_id: todo } }),
        call('POST', `/projects/${project.id}/states`, { token: owner.token, json: { name, category: 'started' } }),
        call('PATCH', '/auth/me', { token: owner.token, json: { full_name: name } }),
      ];
      for (const res of await Promise.all(attempts)) {
        const problem = expectProblem(res, 422);
        expect(problem.errors![0]!.message).toMatch(/invisible/);
      }
    });
  }

  it('accept every script, combining marks and emoji, the joiner inside an emoji sequence included', async () => {
    const owner = await createUser();
    for (const name of ['日本 project', 'e\u0301clair', 'Ωmega 👩‍💻 team', '🏳️‍🌈 pride', 'עברית', 'हिन्दी']) {
      const res = await call('POST', '/projects', { token: owner.token, json: { name } });
      expect(res.status, `${name}: ${res.text}`).toBe(201);
      expect(res.body.name).toBe(name);
    }
  });
});
