import { and, asc, desc, eq, gt, lt, ne, sql } from 'drizzle-orm';
import type { Database } from '../../db/client.ts';
import { tasks, workflowStates } from '../../db/schema.ts';
import { validationFailed } from '../../lib/problem.ts';
import { CREATED_KEY_LENGTH, keyBetween, MAX_KEY_LENGTH } from './tasks.position.ts';

/*
 * A manual reorder (PATCH with `before_id` or `after_id`): the one write to tasks that takes a short
 * transaction. It locks the task's state row while it reads the neighbours and works out the key, so
 * concurrent moves within a state take turns and never compute the same key from the same neighbours; the
 * task's own guarded update (tasks.writes.ts) then writes the key with the rest of the change.
 */

/** The new position key of `taskId` (in `stateId`) placed next to `anchorId`; built per call inside the move's transaction. */
export async function positionBesidePerCall(
  tx: Database,
  task: { id: string; projectId: string; stateId: string },
  anchor: { id: string; side: 'before' | 'after' },
): Promise<string> {
  await tx
    .select({ id: workflowStates.id })
    .from(workflowStates)
    .where(eq(workflowStates.id, task.stateId))
    .for('no key update');
  // Read after the lock: a transition may have moved the task meanwhile.
  const [current] = await tx.select({ stateId: tasks.stateId }).from(tasks).where(eq(tasks.id, task.id));
  const [neighbour] = await tx
    .select({ position: tasks.position, stateId: tasks.stateId, isActive: tasks.isActive })
    .from(tasks)
    .where(and(eq(tasks.id, anchor.id), eq(tasks.projectId, task.projectId)));
  if (!neighbour || !neighbour.isActive || neighbour.stateId !== current!.stateId || anchor.id === task.id) {
    throw validationFailed([{ path: `body.${anchor.side}_id`, message: 'must be another task in the same state' }]);
  }
  const after = anchor.side === 'after';
  const [next] = await tx
    .select({ position: tasks.position })
    .from(tasks)
    .where(
      and(
        eq(tasks.stateId, neighbour.stateId),
        eq(tasks.isActive, true),
        ne(tasks.id, task.id),
        after ? gt(tasks.position, neighbour.position) : lt(tasks.position, neighbour.position),
      ),
    )
    .orderBy(after ? asc(tasks.position) : desc(tasks.position))
    .limit(1);
  const position = after
    ? keyBetween(neighbour.position, next?.position ?? null)
    : keyBetween(next?.position ?? null, neighbour.position);
  return position.length > MAX_KEY_LENGTH ? rebalanceStatePerCall(tx, neighbour.stateId, task.id, position) : position;
}

/**
 * Deals the active tasks of a state fresh keys in their order, the moved task placed at `movedKey` (its key
 * between its new neighbours, too long to keep): the smallest key's leading CREATED_KEY_LENGTH digits, then
 * the rank, zero-padded to one width, then 5 (keys never end in 0). All stay above that created key and
 * below the next, so later tasks still sort after them. Runs under the state's lock; returns the moved
 * task's new key, which its own update writes with its audit event.
 */
async function rebalanceStatePerCall(
  tx: Database,
  stateId: string,
  movedId: string,
  movedKey: string,
): Promise<string> {
  const key = sql`(case when ${tasks.id} = ${movedId} then ${movedKey} else ${tasks.position} end) collate "C"`;
  const rank = sql`row_number() over (order by ${key}, ${tasks.number})`;
  const width = sql`length((count(*) over ())::text)`;
  const ordered = tx.$with('ordered').as(
    tx
      .select({
        id: tasks.id,
        key: sql<string>`left(min(${key}) over (), ${CREATED_KEY_LENGTH}) || lpad(${rank}::text, ${width}, '0') || '5'`.as(
          'key',
        ),
      })
      .from(tasks)
      .where(and(eq(tasks.stateId, stateId), eq(tasks.isActive, true))),
  );
  const others = tx.$with('others').as(
    tx
      .update(tasks)
      .set({ position: sql`${ordered.key}` })
      .from(ordered)
      .where(and(eq(tasks.id, ordered.id), ne(tasks.id, movedId))),
  );
  const [moved] = await tx
    .with(ordered, others)
    .select({ key: ordered.key })
    .from(ordered)
    .where(eq(ordered.id, movedId));
  return moved!.key;
}
