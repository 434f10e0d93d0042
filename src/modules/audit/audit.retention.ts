import type { AppConfig } from '../../config.ts';
import { createDatabase } from '../../db/client.ts';
import { writeLog } from '../../lib/log.ts';
import { deleteExpiredEvents } from './audit.service.ts';

/** Per scheduled run: at most 50 batches of 1,000 events; a backlog beyond that goes on the next day. */
export const RETENTION_BATCH = { batchSize: 1000, maxBatches: 50 };

/**
 * The Cron Trigger's job (wrangler.toml `[triggers]`): deletes audit events older than
 * AUDIT_RETENTION_DAYS, in bounded batches, and logs how many went.
 */
export async function applyAuditRetention(
  config: AppConfig,
  connectionString: string,
  batches = RETENTION_BATCH,
): Promise<number> {
  const database = createDatabase(connectionString, config.databaseConnectTimeoutSeconds);
  const deleted = await database.run(() =>
    deleteExpiredEvents(database.db, { days: config.auditRetentionDays, ...batches }),
  );
  writeLog('info', { message: 'audit retention', retention_days: config.auditRetentionDays, deleted });
  return deleted;
}
