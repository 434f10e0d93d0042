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

const remaining = async (entityId: string) => Number((await sql()`select count(*) as n from audit_events where entity_id = ${entityId}`)[0]!.n);

const runCron = (bindings: Bindings) => worker.scheduled(createScheduledController({ cron: '17 3 * * *', scheduledTime: Date.now() }), bindings);

describe('audit retention', () => {
  it('deletes in bounded batches and leaves what it did not reach to the next run', async () => {
    const old = await eventsAged(400, 5);
    const logged = vi.spyOn(console, 'log').mockImplementation(() => {});
    const deleted = await applyAuditRetention(loadConfig(env as unknown as Bindings), env.HYPERDRIVE.connectionString, { batchSize: 2, maxBatches: 2 });
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
    const line = JSON.parse(String(logged.mock.calls.at(-1)?.[0]));
    expect(line).toMatchObject({ level: 'info', message: 'audit retention', retention_days: 365, deleted: expect.any(Number) });
    expect(line.deleted).toBeGreaterThanOrEqual(3);

    await runCron({ ...(env as unknown as Bindings), AUDIT_RETENTION_DAYS: '200' });
    logged.mockRestore();
    expect(await remaining(recent)).toBe(0);
    expect(await remaining(fresh)).toBe(1);
  });

  it('refuses a nonsensical AUDIT_RETENTION_DAYS at startup', () => {
    expect(() => loadConfig({ ...(env as unknown as Bindings), AUDIT_RETENTION_DAYS: '0' })).toThrow(/AUDIT_RETENTION_DAYS/);
    expect(() => loadConfig({ ...(env as unknown as Bindings), AUDIT_RETENTION_DAYS: 'forever' })).toThrow(/AUDIT_RETENTION_DAYS/);
  });
});
