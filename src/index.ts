import { env } from 'cloudflare:workers';
import { createApp } from './app.ts';
import { loadConfig } from './config.ts';
import type { Bindings } from './env.ts';

// Validate configuration when the worker loads, so a bad deployment fails loudly at startup
// instead of answering its first request with an error.
loadConfig(env as unknown as Bindings);

const app = createApp();

export default {
  fetch: app.fetch,
} satisfies ExportedHandler<Bindings>;
