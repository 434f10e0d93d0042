import { env } from 'cloudflare:workers';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import type { Bindings } from './env.ts';
import { applyAuditRetention } from './modules/audit/audit.retention.ts';
import { forgetStaleThrottles } from './modules/auth/throttle.ts';
import { createDatabase } from './db/client.ts';
import { writeLog } from './lib/log.ts';
import { retryMail } from './modules/mail/mail.delivery.ts';
import { withOwnDatabase } from './db/own-database.ts';

// Validate configuration when the worker loads, so a bad deployment fails loudly at startup
// instead of answering its first request with an error.
loadConfig(env as unknown as Bindings);

const app = createApp();
/** wrangler.toml's daily trigger; the other one sends mail. */
const DAILY = '17 3 * * *';

export default {
  fetch: app.fetch,
  // The Cron Triggers of wrangler.toml: every few minutes, the mail the outbox still holds; daily, the audit
  // retention and forgetting login throttle keys that hold nothing any more. Awaited, so a failed run shows
  // as a failed invocation in the Cron Triggers' log.
  async scheduled(controller, bindings) {
    const config = loadConfig(bindings);
    if (controller.cron !== DAILY) {
      const outcome = await withOwnDatabase(bindings, config, (db) => retryMail(db, bindings.EMAIL, config));
      if (outcome.sent + outcome.failed + outcome.givenUp > 0) writeLog('info', { message: 'mail outbox', ...outcome });
      return;
    }
    await applyAuditRetention(config, bindings.HYPERDRIVE.connectionString);
    const database = createDatabase(bindings.HYPERDRIVE.connectionString, config.databaseConnectTimeoutSeconds);
    const forgotten = await database.run(() =>
      forgetStaleThrottles(database.db, config.loginThrottle.trustedNetworkDays),
    );
    writeLog('info', { message: 'login throttle cleanup', deleted: forgotten });
  },
} satisfies ExportedHandler<Bindings>;
