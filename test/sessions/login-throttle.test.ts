import { describe, expect, it } from 'vitest';
import { sql } from '../support/db.ts';
import { call, expectProblem, passwordHashes } from '../support/http.ts';
import { createUser, PASSWORD, uniqueEmail } from '../support/users.ts';

/*
 * Login throttling (src/modules/auth/throttle.ts): the fast key is one account from one client network,
 * the slow one the account from everywhere, and the password change has its own. Each test's addresses
 * are its own networks (random /64s), so tests do not meet each other's counts.
 */

const randomWord = () => Math.floor(Math.random() * 0x10000).toString(16);
/** A fresh /64 and an address in it. */
const network = () => {
  const prefix = `2001:db8:${randomWord()}:${randomWord()}`;
  return { prefix: `${prefix}::/64`, address: (host = randomWord()) => `${prefix}::${host}` };
};

const login = (email: string, password: string, ip: string) =>
  call('POST', '/auth/login', { json: { email, password }, headers: { 'CF-Connecting-IP': ip } });

const keyOf = (text: string) => sql()`encode(sha256(convert_to(${text}, 'UTF8')), 'hex')`;
async function attemptsOf(text: string): Promise<number | undefined> {
  const [row] = await sql()`select attempts from auth_throttles where key_hash = ${keyOf(text)}`;
  return row?.attempts;
}

describe('per account and network (the fast key)', () => {
  it('after 10 failed logins from one network it answers 429 with Retry-After, the right password too, without hashing', async () => {
    const user = await createUser();
    const home = network();
    // Any address of the network counts against the same key.
    for (let i = 0; i < 10; i++) expectProblem(await login(user.email, 'wrong password', home.address()), 401);
    const blocked = await login(user.email, PASSWORD, home.address());
    expectProblem(blocked, 429);
    const retryAfter = Number(blocked.headers.get('Retry-After'));
    expect(retryAfter).toBeGreaterThan(25);
    expect(retryAfter).toBeLessThanOrEqual(30);
    expect(passwordHashes(blocked)).toBe(0);
    // Once the wait is over, another failure blocks for twice as long.
    await sql()`update auth_throttles set blocked_until = now() - interval '1 second' where key_hash = ${keyOf(`login:${user.email}:${home.prefix}`)}`;
    expectProblem(await login(user.email, 'wrong again', home.address()), 401);
    expect(Number((await login(user.email, PASSWORD, home.address())).headers.get('Retry-After'))).toBeGreaterThan(55);
  });

  it('counts every attempt before checking its password: 30 concurrent wrong guesses check at most 10', async () => {
    const user = await createUser();
    const attacker = network();
    const guesses = await Promise.all(
      Array.from({ length: 30 }, (_, i) => login(user.email, `wrong guess ${i}`, attacker.address())),
    );
    const statuses = guesses.map((guess) => guess.status).sort();
    expect(statuses.filter((status) => status === 401)).toHaveLength(10);
    expect(statuses.filter((status) => status === 429)).toHaveLength(20);
    expect(guesses.reduce((hashes, guess) => hashes + passwordHashes(guess), 0)).toBe(10);
    expect(await attemptsOf(`login:${user.email}:${attacker.prefix}`)).toBe(10);
    // The race the review found: 20 concurrent guesses, the last one right, cannot reach it beyond the limit.
    const other = await createUser();
    const racer = network();
    const race = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        login(other.email, i === 19 ? PASSWORD : `wrong guess ${i}`, racer.address()),
      ),
    );
    expect(race.reduce((hashes, guess) => hashes + passwordHashes(guess), 0)).toBeLessThanOrEqual(10);
    expect(race.filter((guess) => guess.status === 401 || guess.status === 200).length).toBeLessThanOrEqual(10);
    const [sessions] = await sql()`select count(*)::int as n from sessions where user_id = ${other.id}`;
    // The one session createUser made, plus one only if the right guess was among the ten checked.
    expect(sessions!.n).toBe(1 + race.filter((guess) => guess.status === 200).length);
  });

  it("an attacker's failures hold back only the attacker's network: the holder logs in and changes the password from their own", async () => {
    const user = await createUser();
    const attacker = network();
    for (let i = 0; i < 15; i++) await login(user.email, `guess ${i}`, attacker.address());
    expectProblem(await login(user.email, PASSWORD, attacker.address()), 429);
    const home = network();
    const mine = await login(user.email, PASSWORD, home.address());
    expect(mine.status).toBe(200);
    const changed = await call('POST', '/auth/me/password', {
      token: mine.body.access_token,
      json: { current_password: PASSWORD, new_password: 'a fresh long passphrase' },
      headers: { 'CF-Connecting-IP': home.address() },
    });
    expect(changed.status).toBe(204);
  });

  it('an unknown email is throttled exactly like a known one: same statuses, bodies and Retry-After', async () => {
    const user = await createUser();
    const unknown = uniqueEmail('ghost');
    const where = network();
    for (let i = 0; i < 10; i++) {
      const [known, ghost] = [
        await login(user.email, 'wrong password', where.address()),
        await login(unknown, 'wrong password', where.address()),
      ];
      expect(ghost.status).toBe(known.status);
      expect(ghost.body.detail).toBe(known.body.detail);
      expect(passwordHashes(ghost)).toBe(passwordHashes(known));
    }
    const [known, ghost] = [
      await login(user.email, PASSWORD, where.address()),
      await login(unknown, PASSWORD, where.address()),
    ];
    expect([known.status, ghost.status]).toEqual([429, 429]);
    expect(ghost.body.detail).toBe(known.body.detail);
    expect(ghost.headers.get('Retry-After')).toBe(known.headers.get('Retry-After'));
  });

  it('a key guessed at for weeks (thousands of attempts) still answers 401 and waits at most an hour, never a 500', async () => {
    const user = await createUser();
    const where = network();
    await sql()`insert into auth_throttles (key_hash, attempts, blocked_until, last_attempt_at)
                values (${keyOf(`login:${user.email}:${where.prefix}`)}, 5000, now() - interval '1 second', now())`;
    expectProblem(await login(user.email, 'still guessing', where.address()), 401);
    const blocked = await login(user.email, PASSWORD, where.address());
    expectProblem(blocked, 429, 'too_many_attempts');
    expect(Number(blocked.headers.get('Retry-After'))).toBeLessThanOrEqual(3600);
  });

  it("a successful login clears its network's count", async () => {
    const user = await createUser();
    const where = network();
    for (let i = 0; i < 9; i++) await login(user.email, 'wrong password', where.address());
    expect((await login(user.email, PASSWORD, where.address())).status).toBe(200);
    expect(await attemptsOf(`login:${user.email}:${where.prefix}`)).toBe(0);
    for (let i = 0; i < 9; i++) await login(user.email, 'wrong password', where.address());
    expect((await login(user.email, PASSWORD, where.address())).status).toBe(200);
  });

  it('IPv4 clients are counted by their /24', async () => {
    const user = await createUser();
    const base = `203.0.${Math.floor(Math.random() * 250)}`;
    for (let i = 0; i < 10; i++) await login(user.email, 'wrong password', `${base}.${i + 1}`);
    expectProblem(await login(user.email, PASSWORD, `${base}.200`), 429);
    expect(await attemptsOf(`login:${user.email}:${base}.0/24`)).toBe(10);
  });
});

describe('per account across networks (the slow key)', () => {
  it('stops guessing spread over many networks, but not on a network the account logged in from lately', async () => {
    const user = await createUser();
    const home = network();
    expect((await login(user.email, PASSWORD, home.address())).status).toBe(200);
    // 100 failures (LOGIN_ACCOUNT_FAILURE_LIMIT) from 20 networks, each staying under its own limit of 10.
    for (let i = 0; i < 20; i++) {
      const botnet = network();
      for (let j = 0; j < 5; j++) expectProblem(await login(user.email, `guess ${i}-${j}`, botnet.address()), 401);
    }
    const fresh = await login(user.email, PASSWORD, network().address());
    expectProblem(fresh, 429);
    expect(passwordHashes(fresh)).toBe(0);
    expect(Number(fresh.headers.get('Retry-After'))).toBeGreaterThan(250);
    expect(await attemptsOf(`login:${user.email}`)).toBe(100);
    // The holder's own network is trusted and still gets in.
    expect((await login(user.email, PASSWORD, home.address())).status).toBe(200);
  });
});

describe('the password change has its own key', () => {
  it('failed logins with the email do not block it; its own failures do, with at most 10 checked however concurrent', async () => {
    const user = await createUser();
    const attacker = network();
    for (let i = 0; i < 12; i++) await login(user.email, `guess ${i}`, attacker.address());
    const change = (current: string) =>
      call('POST', '/auth/me/password', {
        token: user.token,
        json: { current_password: current, new_password: 'another long passphrase' },
      });
    const tries = await Promise.all(Array.from({ length: 30 }, (_, i) => change(`wrong current ${i}`)));
    expect(tries.filter((attempt) => attempt.status === 403)).toHaveLength(10);
    expect(tries.filter((attempt) => attempt.status === 429)).toHaveLength(20);
    expect(tries.reduce((hashes, attempt) => hashes + passwordHashes(attempt), 0)).toBe(10);
    const blocked = await change(PASSWORD);
    expectProblem(blocked, 429);
    expect(passwordHashes(blocked)).toBe(0);
    expect(await attemptsOf(`password-change:${user.id}`)).toBe(10);
    // Logins from the holder's network are their own business.
    expect((await login(user.email, PASSWORD, network().address())).status).toBe(200);
  });
});
