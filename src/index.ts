import { env } from 'cloudflare:workers';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import type { Bindings } from './env.ts';
import { applyAuditRetention } from './modules/audit/audit.retention.ts';

// Validate configuration when the worker loads, so a bad deployment fails loudly at startup
// instead of answering its first request with an error.
loadConfig(env as unknown as Bindings);

const app = createApp();

export default {
  fetch: app.fetch,
  // The Cron Triggers of wrangler.toml: the daily audit retention.
  // Awaited, so a failed run shows as a failed invocation in the Cron Triggers' log.
  async scheduled(_controller, bindings) {
    await applyAuditRetention(loadConfig(bindings), bindings.HYPERDRIVE.connectionString);
  },
} satisfies ExportedHandler<Bindings>;
