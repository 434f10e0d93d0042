import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem } from '../support/http.ts';
import { mailedToken, messagesTo, tokenIn } from '../support/mail.ts';
import { createProjectWithMembers } from '../support/projects.ts';
import { createUser, PASSWORD, uniqueEmail, type TestUser } from '../support/users.ts';

const invite = (token: string, projectId: string, email: string, role = 'editor') =>
  call('POST', `/projects/${projectId}/invitations`, { token, json: { email, role } });
const accept = (token: string, invitationToken: string) =>
  call('POST', '/invitations/accept', { token, json: { token: invitationToken } });
const verifyAddress = async (user: TestUser) => {
  const res = await call('POST', '/auth/email/verify', {
    json: { token: await mailedToken(user.email, 'email_verify') },
  });
  expect(res.status).toBe(200);
};
const memberRole = async (projectId: string, userId: string) =>
  (await sql()`select role from project_members where project_id = ${projectId} and user_id = ${userId}`)[0]?.role;

describe('POST /projects/{id}/invitations', () => {
  it('202 with the invitation, the same whether or not an account uses the address; the link is mailed', async () => {
    const owner = await createUser({ fullName: 'Olive Owner' });
    const project = await createProjectWithMembers(owner, [], 'Moonshot');
    const existing = await createUser();
    const nobody = uniqueEmail('nobody');
    const forExisting = await invite(owner.token, project.id, existing.email, 'viewer');
    const forNobody = await invite(owner.token, project.id, nobody, 'viewer');
    for (const res of [forExisting, forNobody]) {
      expect(res.status).toBe(202);
      expect(Object.keys(res.body).sort()).toEqual(
        ['created_at', 'email', 'expires_at', 'id', 'invited_by', 'project_id', 'role'].sort(),
      );
      expect(res.body).toMatchObject({ project_id: project.id, role: 'viewer', invited_by: owner.id });
      expect(Date.parse(res.body.expires_at) - Date.parse(res.body.created_at)).toBe(7 * 86_400_000);
    }
    // Adding people no longer happens before they accept.
    expect(await memberRole(project.id, existing.id)).toBeUndefined();
    const [message] = await messagesTo(nobody, 'invitation');
    expect(message!.subject).toBe('You are invited to Moonshot on AegisFlow');
    expect(message!.text_body).toContain(
      'Olive Owner invites you to join the project Moonshot on AegisFlow as viewer.',
    );
    expect(message!.text_body).toContain('/invitations/accept#token=');
    const list = await call('GET', `/projects/${project.id}/invitations`, { token: owner.token });
    expect(list.status).toBe(200);
    expect(list.headers.get('X-Total-Count')).toBe('2');
    expect(list.body.map((row: { email: string }) => row.email)).toEqual([nobody, existing.email]);
    const [event] =
      await sql()`select changes::text from audit_events where entity_id = ${forNobody.body.id} and action = 'invitation.create'`;
    expect(event!.changes).not.toContain(tokenIn(message!));
  });

  it('escapes what the database fills in for the HTML part', async () => {
    const owner = await createUser({ fullName: '<b>Mallory</b> & co' });
    const project = await createProjectWithMembers(owner, [], 'A <script>alert(1)</script> project');
    const email = uniqueEmail('html');
    expect((await invite(owner.token, project.id, email)).status).toBe(202);
    const [message] = await messagesTo(email, 'invitation');
    expect(message!.html_body).toContain('&lt;b&gt;Mallory&lt;/b&gt; &amp; co');
    expect(message!.html_body).not.toContain('<script>');
    expect(message!.text_body).toContain('A <script>alert(1)</script> project');
  });

  it('managers may invite; editors and viewers 403, outsiders 404; members already in get 409; bad bodies 422', async () => {
    const [owner, manager, editor, viewer, outsider] = await Promise.all(
      ['owner', 'manager', 'editor', 'viewer', 'outsider'].map((label) => createUser({ label })),
    );
    const project = await createProjectWithMembers(owner!, [
      [manager!, 'manager'],
      [editor!, 'editor'],
      [viewer!, 'viewer'],
    ]);
    expect((await invite(manager!.token, project.id, uniqueEmail())).status).toBe(202);
    expectProblem(await invite(editor!.token, project.id, uniqueEmail()), 403, 'project_role_required');
    expectProblem(await invite(viewer!.token, project.id, uniqueEmail()), 403, 'project_role_required');
    expectProblem(await invite(outsider!.token, project.id, uniqueEmail()), 404, 'not_found');
    expectProblem(await invite(manager!.token, project.id, editor!.email.toUpperCase()), 409, 'already_member');
    expectProblem(await invite(manager!.token, project.id, owner!.email), 409, 'already_member');
    for (const json of [
      { email: uniqueEmail(), role: 'owner' },
      { email: 'nope', role: 'viewer' },
      { role: 'viewer' },
      null,
    ]) {
      expectProblem(await call('POST', `/projects/${project.id}/invitations`, { token: owner!.token, json }), 422);
    }
    expectProblem(await invite(owner!.token, crypto.randomUUID(), uniqueEmail()), 404, 'not_found');
    const pending = await sql()`select count(*)::int as count from invitations where project_id = ${project.id}`;
    expect(pending[0]!.count).toBe(1);
  });

  it('inviting an address again replaces its pending invitation: the old link stops working', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const invitee = await createUser();
    await verifyAddress(invitee);
    const first = await invite(owner.token, project.id, invitee.email, 'viewer');
    const oldToken = await mailedToken(invitee.email, 'invitation');
    const second = await invite(owner.token, project.id, invitee.email, 'manager');
    expect(second.body.id).toBe(first.body.id);
    expectProblem(await accept(invitee.token, oldToken), 400, 'invitation_invalid');
    expect((await accept(invitee.token, await mailedToken(invitee.email, 'invitation'))).body.role).toBe('manager');
  });

  it('at most MAX_PENDING_INVITATIONS pending (409 invitation_limit_reached), INVITATIONS_PER_HOUR per inviter (429)', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    await sql()`insert into invitations (project_id, email, role, invited_by, token_hash, expires_at)
                select ${project.id}, 'pending-' || n || '@example.com', 'viewer', null, md5(random()::text || n), now() + interval '1 day'
                from generate_series(1, 100) as n`;
    expectProblem(await invite(owner.token, project.id, uniqueEmail()), 409, 'invitation_limit_reached');
    // An expired one does not count.
    await sql()`update invitations set expires_at = now() - interval '1 second' where email = 'pending-1@example.com' and project_id = ${project.id}`;
    expect((await invite(owner.token, project.id, uniqueEmail())).status).toBe(202);

    const busy = await createUser();
    const other = await createProjectWithMembers(busy);
    await sql()`insert into audit_events (actor_id, action, entity_type, entity_id, changes)
                select ${busy.id}, 'invitation.create', 'invitation', gen_random_uuid(), '{}'::jsonb
                from generate_series(1, 49)`;
    expect((await invite(busy.token, other.id, uniqueEmail())).status).toBe(202);
    const limited = await invite(busy.token, other.id, uniqueEmail());
    expectProblem(limited, 429, 'rate_limited');
    expect(Number(limited.headers.get('Retry-After'))).toBeGreaterThan(3000);
  });

  it('concurrent invitations never pass the pending cap', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    await sql()`insert into invitations (project_id, email, role, token_hash, expires_at)
                select ${project.id}, 'cap-' || n || '@example.com', 'viewer', md5(random()::text || n), now() + interval '1 day'
                from generate_series(1, 97) as n`;
    const answers = await Promise.all(Array.from({ length: 8 }, () => invite(owner.token, project.id, uniqueEmail())));
    expect(answers.filter((answer) => answer.status === 202)).toHaveLength(3);
    for (const answer of answers) if (answer.status !== 202) expectProblem(answer, 409, 'invitation_limit_reached');
    const [row] = await sql()`select count(*)::int as count from invitations where project_id = ${project.id}`;
    expect(row!.count).toBe(100);
  });
});

describe('POST /projects/{id}/members', () => {
  it('admins add an existing account at once (201); everyone else gets the invitation (202)', async () => {
    const owner = await createUser();
    const admin = await createUser({ role: 'admin' });
    const project = await createProjectWithMembers(owner);
    const [a, b] = [await createUser(), await createUser()];
    const invited = await call('POST', `/projects/${project.id}/members`, {
      token: owner.token,
      json: { email: a.email, role: 'editor' },
    });
    expect(invited.status).toBe(202);
    expect(invited.body).toMatchObject({ email: a.email, role: 'editor', project_id: project.id });
    expect(await memberRole(project.id, a.id)).toBeUndefined();
    expect(await messagesTo(a.email, 'invitation')).toHaveLength(1);
    // The same answer for an address nobody uses: no way to probe who has an account.
    const nobody = await call('POST', `/projects/${project.id}/members`, {
      token: owner.token,
      json: { email: uniqueEmail('nobody'), role: 'editor' },
    });
    expect(nobody.status).toBe(202);
    const added = await call('POST', `/projects/${project.id}/members`, {
      token: admin.token,
      json: { email: b.email, role: 'viewer' },
    });
    expect(added.status).toBe(201);
    expect(await memberRole(project.id, b.id)).toBe('viewer');
    await sql()`update users set role = 'user' where id = ${admin.id}`;
  });
});

describe('accepting an invitation', () => {
  it('by token: 403 until the address is verified, then 201 member with the role; once only', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const invitee = await createUser();
    await invite(owner.token, project.id, invitee.email, 'editor');
    const token = await mailedToken(invitee.email, 'invitation');
    expectProblem(await accept(invitee.token, token), 403, 'email_unverified');
    await verifyAddress(invitee);
    const res = await accept(invitee.token, token);
    expect(res.status).toBe(201);
    expect(res.body).toMatchObject({ user_id: invitee.id, role: 'editor', added_by: owner.id, email: invitee.email });
    expect(await memberRole(project.id, invitee.id)).toBe('editor');
    expectProblem(await accept(invitee.token, token), 400, 'invitation_invalid');
    const actions =
      await sql()`select action from audit_events where project_id = ${project.id} and action in ('invitation.accept', 'member.add') order by id`;
    expect(actions.map((row) => row.action).sort()).toEqual(['invitation.accept', 'member.add']);
  });

  it('an account made from the link is verified and may accept; another account gets 403 invitation_mismatch', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const email = uniqueEmail('newcomer');
    await invite(owner.token, project.id, email, 'viewer');
    const token = await mailedToken(email, 'invitation');
    const stranger = await createUser();
    await verifyAddress(stranger);
    expectProblem(await accept(stranger.token, token), 403, 'invitation_mismatch');
    // Signing up with the token for another address is refused, and creates nothing.
    const wrong = await call('POST', '/auth/signup', {
      json: { email: uniqueEmail('other'), password: PASSWORD, invitation_token: token },
    });
    expectProblem(wrong, 403, 'invitation_mismatch');
    expectProblem(
      await call('POST', '/auth/signup', { json: { email, password: PASSWORD, invitation_token: 'made-up' } }),
      400,
      'invitation_invalid',
    );
    const signup = await call('POST', '/auth/signup', { json: { email, password: PASSWORD, invitation_token: token } });
    expect(signup.status).toBe(201);
    expect(signup.body.email_verified_at).toEqual(expect.any(String));
    expect(await messagesTo(email, 'email_verify')).toHaveLength(0);
    const login = await call('POST', '/auth/login', { json: { email, password: PASSWORD } });
    const res = await accept(login.body.access_token, token);
    expect(res.status).toBe(201);
    expect(res.body.role).toBe('viewer');
  });

  it('GET /invitations lists the caller’s pending ones; accepting by id; withdrawn, accepted and expired ones are gone', async () => {
    const owner = await createUser();
    const [one, two, three] = [
      await createProjectWithMembers(owner, [], 'One'),
      await createProjectWithMembers(owner, [], 'Two'),
      await createProjectWithMembers(owner, [], 'Three'),
    ];
    const invitee = await createUser();
    expectProblem(await call('GET', '/invitations', { token: invitee.token }), 403, 'email_unverified');
    await verifyAddress(invitee);
    const ids = [];
    for (const project of [one!, two!, three!])
      ids.push((await invite(owner.token, project.id, invitee.email)).body.id);
    expect((await call('DELETE', `/projects/${three!.id}/invitations/${ids[2]}`, { token: owner.token })).status).toBe(
      204,
    );
    expectProblem(
      await call('DELETE', `/projects/${three!.id}/invitations/${ids[2]}`, { token: owner.token }),
      404,
      'not_found',
    );
    await sql()`update invitations set expires_at = now() - interval '1 second' where id = ${ids[1]}`;
    const mine = await call('GET', '/invitations', { token: invitee.token });
    expect(mine.status).toBe(200);
    expect(mine.body).toEqual([expect.objectContaining({ id: ids[0], project_name: 'One', role: 'editor' })]);
    const stranger = await createUser();
    expectProblem(
      await call('POST', `/invitations/${ids[0]}/accept`, { token: stranger.token }),
      403,
      'invitation_mismatch',
    );
    expect((await call('POST', `/invitations/${ids[0]}/accept`, { token: invitee.token })).status).toBe(201);
    for (const id of [ids[0], ids[1], ids[2]]) {
      expectProblem(
        await call('POST', `/invitations/${id}/accept`, { token: invitee.token }),
        409,
        'invitation_not_pending',
      );
    }
    expectProblem(await call('POST', `/invitations/${crypto.randomUUID()}/accept`, { token: invitee.token }), 404);
    expect((await call('GET', '/invitations', { token: invitee.token })).body).toEqual([]);
  });

  it('concurrent accepts of one invitation: exactly one membership', async () => {
    const owner = await createUser();
    const project = await createProjectWithMembers(owner);
    const invitee = await createUser();
    await verifyAddress(invitee);
    await invite(owner.token, project.id, invitee.email);
    const token = await mailedToken(invitee.email, 'invitation');
    const answers = await Promise.all(Array.from({ length: 6 }, () => accept(invitee.token, token)));
    expect(answers.filter((answer) => answer.status === 201)).toHaveLength(1);
    for (const answer of answers) if (answer.status !== 201) expectProblem(answer, 400, 'invitation_invalid');
    const rows =
      await sql()`select 1 from project_members where project_id = ${project.id} and user_id = ${invitee.id}`;
    expect(rows).toHaveLength(1);
  });
});
