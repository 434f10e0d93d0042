import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import document from '../../openapi.json';
import { PROJECT_ROLES, type ProjectRole } from '../../src/db/schema.ts';
import { REQUIRED_ROLE, whoMay, type ProjectAction } from '../../src/modules/projects/access.ts';
import type { Caller } from '../support/access-expectations.ts';
import { PROJECT_ROUTES, TASK_ROUTES } from '../support/access-routes.ts';

/*
 * Each project-scoped route publishes the least role it needs (`x-required-role`, generated from the role
 * table in access.ts): held here against what the access matrices observe over HTTP, and against the
 * README's "Who" column.
 */

const operations = Object.entries(document.paths).flatMap(([path, item]) =>
  Object.entries(item as Record<string, Record<string, unknown>>).map(([method, operation]) => ({
    route: `${method.toUpperCase()} ${path}`,
    role: operation['x-required-role'] as ProjectRole | undefined,
    summary: operation.summary as string,
  })),
);
const projectScoped = operations.filter((operation) => /^\S+ \/(projects|tasks)\/\{id\}/.test(operation.route));

/** The least membership role the matrix saw succeed. */
const leastRoleSeen = (expect: Record<Caller, number>): ProjectRole | undefined =>
  PROJECT_ROLES.find((role) => expect[role] < 300);

const actionOf = (role: ProjectRole) =>
  (Object.keys(REQUIRED_ROLE) as ProjectAction[]).find((action) => REQUIRED_ROLE[action] === role)!;

describe('x-required-role', () => {
  it('is declared by every project-scoped route', () => {
    expect(projectScoped.filter((operation) => !operation.role).map((operation) => operation.route)).toEqual([]);
  });

  it('is what the access matrices observe, route by route', () => {
    const observed = Object.fromEntries(
      [...PROJECT_ROUTES, ...TASK_ROUTES]
        .filter((route) => !route.name.includes('?'))
        .map((route) => [route.name, leastRoleSeen(route.expect)]),
    );
    const declared = Object.fromEntries(projectScoped.map((operation) => [operation.route, operation.role]));
    // Every route the matrices cover, and the matrices cover every project-scoped route but the activity feed
    // (test/audit) and the task history's pages (the task matrix reads its first).
    for (const [route, role] of Object.entries(observed)) expect([route, declared[route]]).toEqual([route, role]);
    expect(Object.keys(declared).filter((route) => !(route in observed))).toEqual(['GET /projects/{id}/activity']);
  });

  it("matches the README's Who column and the summary", () => {
    const readme = readFileSync(new URL('../../README.md', import.meta.url), 'utf8');
    const who = Object.fromEntries(
      [...readme.matchAll(/^\| (GET|POST|PUT|PATCH|DELETE) \| `([^`]+)` \| ([^|]+) \|/gm)].map((row) => [
        `${row[1]} ${row[2]}`,
        row[3]!.trim(),
      ]),
    );
    for (const operation of projectScoped) {
      const people = whoMay(actionOf(operation.role!));
      expect([operation.route, who[operation.route]?.split(';')[0]]).toEqual([operation.route, people]);
      expect(operation.summary).toContain(`(${people})`);
    }
  });
});
