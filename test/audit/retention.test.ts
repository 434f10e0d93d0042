import { createScheduledController } from 'cloudflare:test';
import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import worker from '../../src/index.ts';
import { loadConfig } from '../../src/config.ts';
import type { Bindings } from '../../src/env.ts';
import { applyAuditRetention } from '../../src/modules/audit/audit.retention.ts';
import { sql } from '../support/db.ts';

/** `count` events about one new entity, written `daysAgo` days ago. */
async function eventsAged(daysAgo: number, count: number): Promise<string> {
  const entityId = crypto.randomUUID();
  for (let index = 0; index < count; index++) {
    await sql()`insert into audit_events (at, action, entity_type, entity_id, changes)
                values (now() - make_interval(days => ${daysAgo}), 'project.update', 'project', ${entityId}, '{}')`;
  }
  return entityId;
}

const remaining = async (entityId: string) =>
  Number((await sql()`select count(*) as n from audit_events where entity_id = ${entityId}`)[0]!.n);

const runCron = (bindings: Bindings) =>
  worker.scheduled(createScheduledController({ cron: '17 3 * * *', scheduledTime: Date.now() }), bindings);

describe('audit retention', () => {
  it('deletes in bounded batches and leaves what it did not reach to the next run', async () => {
    const old = await eventsAged(400, 5);
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const deleted = await applyAuditRetention(loadConfig(env as unknown as Bindings), env.HYPERDRIVE.connectionString, {
      batchSize: 2,
      maxBatches: 2,
    });
    logged.mockRestore();
    expect(deleted).toBe(4);
    expect(await remaining(old)).toBe(1);
  });

  it('the Cron Trigger deletes events older than AUDIT_RETENTION_DAYS (365 by default) and keeps the rest', async () => {
    const old = await eventsAged(366, 3);
    const recent = await eventsAged(300, 2);
    const fresh = await eventsAged(0, 1);
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCron(env as unknown as Bindings);
    expect(await remaining(old)).toBe(0);
    expect(await remaining(recent)).toBe(2);
    expect(await remaining(fresh)).toBe(1);
    const lines = logged.mock.calls.map((call) => JSON.parse(String(call[0])));
    const line = lines.find((logged) => logged.message === 'audit retention');
    expect(line).toMatchObject({
      level: 'info',
      message: 'audit retention',
      retention_days: 365,
      deleted: expect.any(Number),
    });
    expect(line.deleted).toBeGreaterThanOrEqual(3);

    await runCron({ ...(env as unknown as Bindings), AUDIT_RETENTION_DAYS: '200' });
    logged.mockRestore();
    expect(await remaining(recent)).toBe(0);
    expect(await remaining(fresh)).toBe(1);
  });

  it('the same job forgets login throttle keys that hold nothing any more, and keeps the rest', async () => {
    const key = (label: string) => `cleanup-${label}-${crypto.randomUUID()}`;
    const [stale, recent, blocked, trusted, untrustedAgain] = [
      'stale',
      'recent',
      'blocked',
      'trusted',
      'old-success',
    ].map(key);
    await sql()`insert into auth_throttles (key_hash, attempts, blocked_until, last_attempt_at, succeeded_at) values
                (${stale!}, 3, null, now() - interval '2 days', null),
                (${recent!}, 3, null, now() - interval '1 hour', null),
                (${blocked!}, 30, now() + interval '1 hour', now() - interval '2 days', null),
                (${trusted!}, 0, null, now() - interval '2 days', now() - interval '2 days'),
                (${untrustedAgain!}, 0, null, now() - interval '40 days', now() - interval '40 days')`;
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    await runCron(env as unknown as Bindings);
    const line = logged.mock.calls
      .map((call) => JSON.parse(String(call[0])))
      .find((logged) => logged.message === 'login throttle cleanup');
    logged.mockRestore();
    expect(line.deleted).toBeGreaterThanOrEqual(2);
    const left =
      await sql()`select key_hash from auth_throttles where key_hash in (${stale!}, ${recent!}, ${blocked!}, ${trusted!}, ${untrustedAgain!})`;
    expect(new Set(left.map((row) => row.key_hash))).toEqual(new Set([recent, blocked, trusted]));
  });

  it('refuses a nonsensical AUDIT_RETENTION_DAYS at startup', () => {
    expect(() => loadConfig({ ...(env as unknown as Bindings), AUDIT_RETENTION_DAYS: '0' })).toThrow(
      /AUDIT_RETENTION_DAYS/,
    );
    expect(() => loadConfig({ ...(env as unknown as Bindings), AUDIT_RETENTION_DAYS: 'forever' })).toThrow(
      /AUDIT_RETENTION_DAYS/,
    );
  });
});
