import type { TestUser } from './users.ts';

/*
 * The access matrices' callers and the statuses they expect, without any I/O, so node-side checks
 * (test/cli/required-roles.test.ts) can read them too.
 */
/**
 * The access matrix's callers and team, shared by the project and task matrices: every route runs for
 * every kind of caller, each on a fresh project whose members are the team.
 */
export const CALLERS = [
  'anonymous',
  'non-member',
  'viewer',
  'editor',
  'manager',
  'owner',
  'admin',
  'deactivated member',
] as const;
export type Caller = (typeof CALLERS)[number];

export interface Team {
  owner: TestUser;
  viewer: TestUser;
  editor: TestUser;
  manager: TestUser;
  /** A member (viewer) for member routes to act on. */
  subject: TestUser;
  deactivated: TestUser;
  stranger: TestUser;
  admin: TestUser;
  /** Not a member: someone to add. */
  newcomer: TestUser;
}

/** The status each caller gets, from the one members with the right get. */
export const everyone = (member: number, others: Partial<Record<Caller, number>> = {}): Record<Caller, number> => ({
  anonymous: 401,
  'non-member': 404,
  viewer: member,
  editor: member,
  manager: member,
  owner: member,
  admin: member,
  'deactivated member': 403,
  ...others,
});
export const editors = (ok: number) => everyone(ok, { viewer: 403 });
export const managers = (ok: number) => everyone(ok, { viewer: 403, editor: 403 });
export const ownerOnly = (ok: number) => everyone(ok, { viewer: 403, editor: 403, manager: 403 });
