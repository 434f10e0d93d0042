import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createUser, uniqueEmail } from '../support/users.ts';

describe('a project has at most 1000 members', () => {
  it('concurrent adds at the cap: exactly as many succeed as fit, the rest 409 member_limit_reached', async () => {
    const owner = await createUser({ label: 'owner' });
    const project = await createProjectWithMembers(owner);
    // 998 members besides the owner, written directly: the API would take minutes to add them.
    const prefix = uniqueEmail('crowd').replace('@', '-');
    await sql()`with crowd as (
                  insert into users (email, password_hash)
                  select ${prefix} || n || '@example.com', 'x' from generate_series(1, 998) as n returning id
                )
                insert into project_members (project_id, user_id, role, project_created_at, added_at, added_by)
                select ${project.id}, crowd.id, 'viewer', p.created_at, now(), ${owner.id}
                from crowd cross join projects p where p.id = ${project.id}`;
    const newcomers = await Promise.all([1, 2, 3].map(() => createUser({ label: 'late' })));
    // Admins add at once; the invitations' accepts race the same cap (test/invitations).
    const admin = await createUser({ role: 'admin' });
    const results = await Promise.all(
      newcomers.map((user) =>
        call('POST', `/projects/${project.id}/members`, {
          token: admin.token,
          json: { email: user.email, role: 'viewer' },
        }),
      ),
    );
    await sql()`update users set role = 'user' where id = ${admin.id}`;
    expect(results.filter((res) => res.status === 201)).toHaveLength(1);
    for (const res of results.filter((res) => res.status !== 201)) {
      expect((expectProblem(res, 409) as { code?: string }).code).toBe('member_limit_reached');
    }
    const [count] = await sql()`select count(*)::int as n from project_members where project_id = ${project.id}`;
    expect(count!.n).toBe(1000);
  });
});
