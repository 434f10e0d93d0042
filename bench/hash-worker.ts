/**
 * Benchmark helper, never deployed: times the password hash inside workerd, from outside. Workers do
 * not advance clocks while JavaScript runs, so the caller measures round trips to `/verify` (one
 * verification at the configured policy) against `/noop` and takes the difference.
 */
import { loadConfig } from '../src/config.ts';
import type { Bindings } from '../src/env.ts';
import { hashPassword, verifyPassword } from '../src/lib/password.ts';

let stored: Promise<string> | undefined;

export default {
  async fetch(request: Request, env: Bindings): Promise<Response> {
    const policy = loadConfig(env).passwordPolicy;
    stored ??= hashPassword('benchmark password', policy);
    const hash = await stored;
    if (new URL(request.url).pathname === '/verify') {
      const { valid } = await verifyPassword('benchmark password', hash, policy);
      return Response.json({ valid, policy });
    }
    return Response.json({ policy });
  },
} satisfies ExportedHandler<Bindings>;
