import { beforeAll, describe, expect, it } from 'vitest';
import { KEY_MAX_ROLES, SCOPES, type Scope } from '../../src/lib/api-keys.ts';
import { call, expectProblem } from '../support/http.ts';
import { CALLERS, createTeam, taskFixture, teamProject, type Caller, type Team } from '../support/matrix.ts';
import { PROJECT_ROUTES, TASK_ROUTES } from '../support/access-routes.ts';
import { createProjectWithMembers, projectState } from '../support/projects.ts';
import { workState } from '../support/tasks.ts';
import type { ProblemCode } from '../../src/lib/problem-codes.ts';
import type { TestUser } from '../support/users.ts';
import { insertKey, makeKey } from './support.ts';
import openapi from '../../openapi.json';

/**
 * The access matrices' key column: every project-scoped route, with API keys instead of sessions. A key
 * holding every scope acts exactly as its owner's session does (never more); a key without the route's
 * scope is refused (403 scope_required), one limited to another project finds nothing (404), and one capped
 * at a role acts as a member of that role. A refused request leaves the project as it was.
 */

let team: Team;
/** Every kind of caller's key with every scope its owner may hold. */
const fullKeys = new Map<Caller, string>();
/** The owner's keys: capped at each role, limited to another project, and one lacking each scope. */
const cappedKeys = new Map<string, string>();
let elsewhereKey: string;
const lackingKeys = new Map<Scope, string>();

const OWNERS: [Exclude<Caller, 'anonymous' | 'deactivated member'>, keyof Team][] = [
  ['non-member', 'stranger'],
  ['viewer', 'viewer'],
  ['editor', 'editor'],
  ['manager', 'manager'],
  ['owner', 'owner'],
  ['admin', 'admin'],
];
const userScopes = SCOPES.filter((scope) => scope !== 'admin');

beforeAll(async () => {
  team = await createTeam();
  for (const [caller, member] of OWNERS) {
    const user = team[member] as TestUser;
    fullKeys.set(caller, (await makeKey(user, { scopes: caller === 'admin' ? [...SCOPES] : userScopes })).key);
  }
  // A deactivated account can make no key; one it made before is refused as its session is.
  fullKeys.set('deactivated member', await insertKey(team.deactivated.id, userScopes));
  for (const role of KEY_MAX_ROLES) {
    cappedKeys.set(role, (await makeKey(team.owner, { scopes: userScopes, max_role: role })).key);
  }
  const elsewhere = await createProjectWithMembers(team.owner, [], 'Elsewhere');
  elsewhereKey = (await makeKey(team.owner, { scopes: userScopes, project_ids: [elsewhere.id] })).key;
  for (const scope of userScopes) {
    lackingKeys.set(scope, (await makeKey(team.owner, { scopes: userScopes.filter((s) => s !== scope) })).key);
  }
});

/** Stand-ins for the ids and people a route's request names, to read its method and path before any exist. */
const ZERO = '00000000-0000-4000-8000-000000000000';
const anyTeam = new Proxy({}, { get: () => ({ id: ZERO, email: 'nobody@example.com' }) }) as Team;

/** The scope the contract names for a request (`x-required-scope`). */
function requiredScope(method: string, path: string): Scope {
  const bare = path.split('?')[0]!;
  for (const [template, operations] of Object.entries(openapi.paths)) {
    const pattern = new RegExp(`^${template.replace(/\{[^}]+\}/g, '[^/]+')}$`);
    const operation = (operations as Record<string, { 'x-required-scope'?: Scope }>)[method.toLowerCase()];
    if (pattern.test(bare) && operation) return operation['x-required-scope']!;
  }
  throw new Error(`no operation for ${method} ${path}`);
}

/** Sends `request` with `key`; a refusal must be `code` (if given) and leave `state()` as it was. */
async function expectKeyCell(
  key: string,
  status: number,
  request: { method: string; path: string; json?: unknown },
  state: () => Promise<unknown>,
  code?: ProblemCode,
) {
  const before = await state();
  const res = await call(request.method, request.path, { token: key, json: request.json });
  if (status >= 400) {
    expectProblem(res, status, code);
    expect(await state()).toEqual(before);
  } else {
    expect(res.status, res.text).toBe(status);
  }
}

interface Cell {
  name: string;
  key: () => string;
  status: (expect: Record<Caller, number>) => number;
  code?: ProblemCode;
}

const CELLS: Cell[] = [
  ...CALLERS.filter((caller) => caller !== 'anonymous').map((caller): Cell => ({
    name: `${caller}'s key with every scope acts as the session`,
    key: () => fullKeys.get(caller)!,
    status: (expect) => expect[caller],
  })),
  ...KEY_MAX_ROLES.map((role): Cell => ({
    name: `the owner's key capped at ${role} acts as a ${role}`,
    key: () => cappedKeys.get(role)!,
    status: (expect) => expect[role],
  })),
  {
    name: "the owner's key limited to another project: 404",
    key: () => elsewhereKey,
    status: () => 404,
    code: 'not_found',
  },
];

function scopeCell(scope: Scope): Cell {
  return {
    name: `the owner's key without ${scope}: 403 scope_required`,
    key: () => lackingKeys.get(scope)!,
    status: () => 403,
    code: 'scope_required',
  };
}

describe('the project access matrix, with keys', () => {
  for (const route of PROJECT_ROUTES) {
    describe(route.name, () => {
      const probe = route.request(ZERO, anyTeam);
      for (const cell of [...CELLS, scopeCell(requiredScope(probe.method, probe.path))]) {
        it(`${cell.name} (${cell.status(route.expect)})`, async () => {
          const project = await teamProject(team);
          if (route.deleted) await call('DELETE', `/projects/${project.id}`, { token: team.owner.token });
          const request = route.request(project.id, team);
          await expectKeyCell(
            cell.key(),
            cell.status(route.expect),
            request,
            () => projectState(project.id),
            cell.code,
          );
        });
      }
    });
  }
});

describe('the task and workflow access matrix, with keys', () => {
  for (const route of TASK_ROUTES) {
    describe(route.name, () => {
      const probe = route.request(
        { projectId: ZERO, taskId: ZERO, deletedTaskId: ZERO, states: new Proxy({}, { get: () => ({ id: ZERO }) }) },
        anyTeam,
      );
      for (const cell of [...CELLS, scopeCell(requiredScope(probe.method, probe.path))]) {
        it(`${cell.name} (${cell.status(route.expect)})`, async () => {
          const f = await taskFixture(team);
          const state = () => workState(f.projectId);
          await expectKeyCell(cell.key(), cell.status(route.expect), route.request(f, team), state, cell.code);
        });
      }
    });
  }
});
