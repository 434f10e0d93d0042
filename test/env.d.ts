import type { Bindings } from '../src/env.ts';

declare global {
  namespace Cloudflare {
    interface Env extends Bindings {
      JWT_SECRET: string;
      HYPERDRIVE_VIA_PROXY: Hyperdrive;
      HYPERDRIVE_NOWHERE: Hyperdrive;
      PROXY_CONTROL_URL: string;
      // The per-credential quota at 3 a minute (vitest.config.ts), for the quota tests.
      CREDENTIAL_RATE_LIMIT_TIGHT: RateLimit;
    }
    // Types `exports.default` from 'cloudflare:workers' as the worker's own default export.
    interface GlobalProps {
      mainModule: typeof import('../src/index.ts');
    }
  }
}
