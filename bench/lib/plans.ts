import { drizzle } from 'drizzle-orm/postgres-js';
import type postgresType from 'postgres';
import { inlineParameters } from '../../src/db/inline.ts';
import { allowWorkerModulesInNode } from '../../scripts/lib/worker-modules.ts';
import type { Database } from '../../src/db/client.ts';
import { trustedCaller } from '../../src/lib/actor.ts';

/**
 * The query plan of the statement a service function sends: the service builds it here exactly as in the
 * worker (drizzle, the same prepared shape), a logger catches its text and values, and the seam writes
 * them in as the worker does (db/inline.ts). No statement is written by hand.
 */
async function explainFirstStatement(
  sql: postgresType.Sql,
  send: (db: Database) => Promise<unknown>,
): Promise<string[]> {
  const sent: { query: string; params: unknown[] }[] = [];
  const db = drizzle(sql, {
    logger: { logQuery: (query, params) => sent.push({ query, params }) },
  }) as unknown as Database;
  await send(db);
  const statement = inlineParameters(sent[0]!.query, sent[0]!.params);
  const rows = await sql.unsafe(`explain (analyze, buffers, costs off, timing off, summary off) ${statement}`);
  return [
    `-- ${sent.length} statement(s); the first, as sent:`,
    statement,
    '',
    ...rows.map((row) => row['QUERY PLAN'] as string),
  ];
}

// The order only signs the cursor of a next page, which EXPLAIN never reads.
const firstPage = {
  limit: 20,
  offset: 0,
  after: undefined,
  order: { name: 'explain', key: 'timestamp' as const, signedWith: new Uint8Array(32) },
};

/** GET /projects?limit=20 for `callerId`. */
export async function explainProjectList(sql: postgresType.Sql, callerId: string): Promise<string[]> {
  allowWorkerModulesInNode();
  const { listProjects } = await import('../../src/modules/projects/projects.list.ts');
  return explainFirstStatement(sql, (db) =>
    listProjects(db, trustedCaller(callerId), { sort: '-created_at', page: firstPage }),
  );
}

/** GET /projects/{id}/tasks?limit=50 for `callerId`. */
export async function explainTaskList(sql: postgresType.Sql, callerId: string, projectId: string): Promise<string[]> {
  allowWorkerModulesInNode();
  const { listProjectTasks } = await import('../../src/modules/tasks/tasks.list.ts');
  return explainFirstStatement(sql, (db) =>
    listProjectTasks(db, trustedCaller(callerId), projectId, { sort: '-number', page: { ...firstPage, limit: 50 } }),
  );
}

/** GET /tasks?assignee=me&limit=50 for `callerId`. */
export async function explainMyTasks(sql: postgresType.Sql, callerId: string): Promise<string[]> {
  allowWorkerModulesInNode();
  const { listMyTasks } = await import('../../src/modules/tasks/tasks.list.ts');
  return explainFirstStatement(sql, (db) =>
    listMyTasks(db, trustedCaller(callerId), { sort: '-created_at', page: { ...firstPage, limit: 50 } }),
  );
}

/** GET /auth/admin/users?limit=20 for the admin `callerId`. */
export async function explainAdminList(sql: postgresType.Sql, callerId: string): Promise<string[]> {
  allowWorkerModulesInNode();
  const { listUsers } = await import('../../src/modules/admin/admin.service.ts');
  return explainFirstStatement(sql, (db) => listUsers(db, trustedCaller(callerId), { page: firstPage }));
}
