import { env } from 'cloudflare:workers';
import { describe, expect, it, vi } from 'vitest';
import { createApp } from '../../src/app.ts';
import { classifyDatabaseError } from '../../src/db/errors.ts';
import { expectProblem, parse } from '../support/http.ts';

describe('database errors the services did not expect', () => {
  it('are classified: connection loss, invalid values, and conflicts with concurrent changes', () => {
    const wrapped = (code: string) =>
      Object.assign(new Error('Failed query'), { cause: Object.assign(new Error('x'), { code }) });
    expect(classifyDatabaseError(wrapped('08006'))).toBe('unavailable');
    expect(classifyDatabaseError(wrapped('22021'))).toBe('invalid-value');
    for (const code of ['23503', '23505', '40001', '40P01'])
      expect(classifyDatabaseError(wrapped(code)), code).toBe('conflict');
    expect(classifyDatabaseError(wrapped('42P01'))).toBeUndefined();
  });

  it('a conflict becomes a 409 problem that says to retry, never a 500', async () => {
    const app = createApp();
    app.get('/deadlock', () => {
      throw Object.assign(new Error('deadlock detected'), { code: '40P01' });
    });
    const logged = vi.spyOn(console, 'error').mockImplementation(() => {});
    expectProblem(await parse(await app.request('/deadlock', {}, env)), 409, 'changed_meanwhile');
    logged.mockRestore();
  });
});
