import { describe, expect, inject, it } from 'vitest';
import { verifyPassword } from '../../src/lib/password.ts';
import { postgres } from '../../scripts/lib/node-postgres.ts';
import { runScript } from './run-cli.ts';

const databaseUrl = inject('databaseUrl');
const sql = postgres(databaseUrl, { max: 1, onnotice: () => {} });
const DEMO_EMAILS = ['ada.demo@example.com', 'grace.demo@example.com', 'linus.demo@example.com'];

describe('npm run seed:demo', () => {
  it('creates demo users with the printed password and their projects, and adds nothing twice', async () => {
    const first = await runScript('seed-demo.ts', [], databaseUrl);
    expect(first.code, first.stderr).toBe(0);
    const password = /password: (.+)$/m.exec(first.stdout)?.[1];
    expect(password).toBeTruthy();
    for (const email of DEMO_EMAILS) expect(first.stdout).toContain(email);

    const demoUsers =
      await sql`select id, email, role, password_hash from users where email in ${sql(DEMO_EMAILS)} order by email`;
    expect(demoUsers.map((user) => [user.email, user.role])).toEqual([
      ['ada.demo@example.com', 'admin'],
      ['grace.demo@example.com', 'user'],
      ['linus.demo@example.com', 'user'],
    ]);
    for (const user of demoUsers) {
      expect(
        (await verifyPassword(password!, user.password_hash, { algorithm: 'scrypt', logN: 14, r: 8, p: 5 })).valid,
      ).toBe(true);
    }
    const countProjects = async () =>
      (
        await sql`select count(*)::int as n from projects where owner_id in ${sql(demoUsers.map((user) => user.id))}`
      )[0]!.n;
    expect(await countProjects()).toBe(4);
    const memberships =
      await sql`select u.email, m.role from project_members m join projects p on p.id = m.project_id join users u on u.id = m.user_id
                                  where p.name = 'Website relaunch' and p.owner_id = ${demoUsers[1]!.id} order by u.email`;
    expect(memberships.map((row) => [row.email, row.role])).toEqual([
      ['ada.demo@example.com', 'viewer'],
      ['grace.demo@example.com', 'owner'],
      ['linus.demo@example.com', 'editor'],
    ]);
    const tasks =
      await sql`select t.number, t.title, s.name as state, u.email as assignee, t.completed_at is not null as completed
                            from tasks t join projects p on p.id = t.project_id join workflow_states s on s.id = t.state_id
                            left join users u on u.id = t.assignee_id
                            where p.name = 'Website relaunch' and p.owner_id = ${demoUsers[1]!.id} order by t.number`;
    expect(tasks).toHaveLength(5);
    expect(tasks[1]).toMatchObject({ number: 2, state: 'Done', assignee: 'linus.demo@example.com', completed: true });
    expect(tasks[2]).toMatchObject({ number: 3, state: 'To do' });

    const again = await runScript('seed-demo.ts', [], databaseUrl);
    expect(again.code).toBe(0);
    expect(again.stdout).toMatch(/exists/);
    expect((await sql`select count(*)::int as n from users where email in ${sql(DEMO_EMAILS)}`)[0]!.n).toBe(3);
    expect(await countProjects()).toBe(4);
  });

  it('refuses a non-local database unless told otherwise', async () => {
    const remote = new URL(databaseUrl);
    remote.hostname = 'db.example.com';
    const result = await runScript('seed-demo.ts', [], remote.toString());
    expect(result.code).not.toBe(0);
    expect(result.stderr).toMatch(/non-local database/);
  });
});
