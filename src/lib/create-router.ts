import { OpenAPIHono } from '@hono/zod-openapi';
import type { AppEnv } from '../context.ts';
import { validationFailed } from './problem.ts';

const TARGET_NAMES: Record<string, string> = {
  json: 'body',
  form: 'body',
  query: 'query',
  param: 'path',
  header: 'header',
};

/**
 * Every router shares this validation hook, so any schema failure anywhere is the same 422 problem
 * with one `{path, message}` entry per issue.
 */
export function createRouter() {
  return new OpenAPIHono<AppEnv>({
    defaultHook: (result) => {
      if (result.success) return;
      const prefix = TARGET_NAMES[result.target] ?? result.target;
      throw validationFailed(
        result.error.issues.map((issue) => ({
          path: [prefix, ...issue.path.map(String)].join('.'),
          message: issue.message,
        })),
      );
    },
  });
}
