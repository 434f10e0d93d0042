import { env, exports } from 'cloudflare:workers';
import { describe, expect, it } from 'vitest';

describe('health', () => {
  it('GET /health answers without the database', async () => {
    const res = await exports.default.fetch(new Request('http://x/health'));
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: 'ok' });
  });
  it('GET /health/ready', async () => {
    const res = await exports.default.fetch(new Request('http://x/health/ready'));
    console.log(res.status, await res.text(), env.HYPERDRIVE.connectionString);
  });
});
