import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call } from '../support/http.ts';
import { createUser } from '../support/users.ts';

describe('an admin demoted while their request is on its way', () => {
  it('acts no more: the role change re-checks the acting admin after the lock the demotion held', async () => {
    for (let trial = 0; trial < 12; trial++) {
      const [a, b] = [await createUser({ role: 'admin' }), await createUser({ role: 'admin' })];
      const target = await createUser();
      const [demotion, promotion] = await Promise.all([
        call('PATCH', `/auth/admin/users/${b.id}/role`, { token: a.token, json: { role: 'user' } }),
        call('PATCH', `/auth/admin/users/${target.id}/role`, { token: b.token, json: { role: 'admin' } }),
      ]);
      expect(demotion.status).toBe(200);
      const events = await sql()`select entity_id, id from audit_events
                                 where action = 'user.role_change' and entity_id in (${b.id}, ${target.id}) order by id`;
      const [row] = await sql()`select role from users where id = ${target.id}`;
      if (promotion.status === 200) {
        // Allowed only if it committed before B's demotion did.
        expect(row!.role).toBe('admin');
        expect(events.map((event) => event.entity_id)).toEqual([target.id, b.id]);
      } else {
        expect([401, 403]).toContain(promotion.status);
        expect(row!.role).toBe('user');
        expect(events.map((event) => event.entity_id)).toEqual([b.id]);
      }
      // Put the admins back to one per test user pair: the suite shares "the last admin".
      await sql()`update users set role = 'user' where id in (${a.id}, ${target.id})`;
    }
  });
});
