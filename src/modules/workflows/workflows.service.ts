import { and, asc, count, eq, gt, gte, lt, lte, ne, sql } from 'drizzle-orm';
import { changedValues, auditInsertPerCall } from '../../db/audit.ts';
import type { Database } from '../../db/client.ts';
import { slots, statement } from '../../db/statements.ts';
import type { Caller } from '../../lib/actor.ts';
import { postgresCode } from '../../db/errors.ts';
import {
  projects,
  tasks,
  users,
  workflowStates,
  workflowTransitions,
  type AuditAction,
  type StateCategory,
  type WorkflowStateRow,
} from '../../db/schema.ts';
import { actorColumns, callerValues, isCaller, type CallerValues } from '../../db/users.ts';
import { AppError, conflict, notFound, validationFailed } from '../../lib/problem.ts';
import { requireAccess } from '../projects/access.ts';
import {
  callerFrom,
  callerMembership,
  findProjectWithStanding,
  joinCallerMembership,
  standingOf,
} from '../projects/standing.ts';
import { moveTasksToStatePerCall } from '../tasks/tasks.moves.ts';
import type { StateView } from './workflows.schemas.ts';

/*
 * A project's workflow: its states (fixed categories, the team's names and order) and, when restricted,
 * the moves allowed between them. Reads are one statement. Changes are rare and touch several rows (the
 * order of states, tasks moved off a deleted state), so each is a short transaction that first locks the
 * project row: workflow changes of one project run one at a time and each sees what the last one left.
 */

/** The workflow rule: tasks must have somewhere to start and somewhere to finish. */
function requireStartAndFinish(categories: StateCategory[]) {
  if (!categories.some((category) => category === 'unstarted' || category === 'backlog')) {
    throw conflict('workflow_incomplete', 'a workflow needs at least one state in the unstarted or backlog category');
  }
  if (!categories.includes('completed'))
    throw conflict('workflow_incomplete', 'a workflow needs at least one state in the completed category');
}

const taskCount =
  sql<number>`(select count(*) from ${tasks} where ${tasks.stateId} = ${workflowStates.id} and ${tasks.isActive})`.mapWith(
    Number,
  );

const WORKFLOW_STATES = statement('workflow_states', slots<CallerValues & { projectId: string }>(), (db, $) =>
  db
    .select({
      actor: actorColumns,
      project: { id: projects.id, deletedAt: projects.deletedAt },
      membershipRole: callerMembership.role,
      state: workflowStates,
      taskCount,
    })
    .from(users)
    .leftJoin(projects, eq(projects.id, $.projectId))
    .leftJoin(callerMembership, joinCallerMembership())
    .leftJoin(workflowStates, eq(workflowStates.projectId, projects.id))
    .where(isCaller($))
    .orderBy(asc(workflowStates.position)),
);

/** The states of a project, in order, each with its task count, with the caller's right to read them checked in the same statement. */
export async function listStates(db: Database, caller: Caller, projectId: string): Promise<StateView[]> {
  const rows = await WORKFLOW_STATES.on(db).execute({ ...callerValues(caller), projectId });
  requireAccess(rows[0]?.project, standingOf(callerFrom(caller, rows[0]?.actor), rows[0]?.membershipRole), 'readTasks');
  return rows.flatMap((row) => (row.state ? [{ ...row.state, taskCount: row.taskCount }] : []));
}

/** Runs `change` in a transaction holding the project row, once the caller may manage the (active) project's workflow. */
async function changeWorkflowPerCall<T>(
  db: Database,
  caller: Caller,
  projectId: string,
  change: (tx: Database, states: WorkflowStateRow[]) => Promise<T>,
): Promise<T> {
  return db.transaction(async (transaction) => {
    const tx = transaction as unknown as Database;
    await tx.select({ id: projects.id }).from(projects).where(eq(projects.id, projectId)).for('update');
    const { project, standing } = await findProjectWithStanding(tx, caller, projectId);
    if (!project || project.deletedAt !== null) throw notFound('project');
    requireAccess(project, standing, 'manageWorkflow');
    const states = await tx
      .select()
      .from(workflowStates)
      .where(eq(workflowStates.projectId, projectId))
      .orderBy(asc(workflowStates.position));
    try {
      return await change(tx, states);
    } catch (error) {
      // The unique index on (project_id, lower(name)) decides, concurrent renames included.
      if (postgresCode(error) === '23505')
        throw conflict('state_name_taken', 'the project already has a state with this name');
      throw error;
    }
  });
}

/** What the audit trail records of a state. */
const stateFields = (state: WorkflowStateRow) => ({
  name: state.name,
  category: state.category,
  position: state.position,
});

const auditState = (
  tx: Database,
  caller: Caller,
  action: AuditAction,
  stateId: string,
  projectId: string,
  changes: ReturnType<typeof changedValues>,
) => auditInsertPerCall(tx, caller, { action, entityType: 'state', entityId: stateId, projectId, changes });

const stateWithCountPerCall = async (tx: Database, state: WorkflowStateRow): Promise<StateView> => {
  const [counted] = await tx
    .select({ n: count() })
    .from(tasks)
    .where(and(eq(tasks.stateId, state.id), eq(tasks.isActive, true)));
  return { ...state, taskCount: counted!.n };
};

function requirePosition(position: number | undefined, last: number): number {
  if (position === undefined) return last;
  if (position > last) throw validationFailed([{ path: 'body.position', message: `must be at most ${last}` }]);
  return position;
}

/** Adds a state; a project has at most `maxStates` (MAX_STATES_PER_PROJECT), since every read of its workflow lists them all. */
export function createState(
  db: Database,
  caller: Caller,
  projectId: string,
  input: { name: string; category: StateCategory; position?: number },
  maxStates: number,
) {
  return changeWorkflowPerCall(db, caller, projectId, async (tx, states) => {
    if (states.length >= maxStates) {
      throw new AppError('state_limit_reached', `a project has at most ${maxStates} states`);
    }
    const position = requirePosition(input.position, states.length);
    await tx
      .update(workflowStates)
      .set({ position: sql`${workflowStates.position} + 1` })
      .where(and(eq(workflowStates.projectId, projectId), gte(workflowStates.position, position)));
    const [state] = await tx
      .insert(workflowStates)
      .values({ projectId, name: input.name, category: input.category, position })
      .returning();
    await auditState(tx, caller, 'state.create', state!.id, projectId, changedValues({}, stateFields(state!)));
    return { ...state!, taskCount: 0 };
  });
}

export function updateState(
  db: Database,
  caller: Caller,
  projectId: string,
  stateId: string,
  changes: { name?: string; category?: StateCategory; position?: number },
) {
  return changeWorkflowPerCall(db, caller, projectId, async (tx, states) => {
    const current = states.find((state) => state.id === stateId);
    if (!current) throw notFound('state');
    if (changes.category !== undefined) {
      requireStartAndFinish(states.map((state) => (state.id === stateId ? changes.category! : state.category)));
    }
    const position = requirePosition(changes.position, states.length - 1);
    if (position !== current.position) {
      // Close the gap it leaves and open one where it goes: every other state keeps its relative order.
      const [from, to] = [current.position, position];
      await tx
        .update(workflowStates)
        .set({ position: sql`${workflowStates.position} ${sql.raw(to > from ? '-' : '+')} 1` })
        .where(
          and(
            eq(workflowStates.projectId, projectId),
            ne(workflowStates.id, stateId),
            to > from
              ? and(gt(workflowStates.position, from), lte(workflowStates.position, to))
              : and(gte(workflowStates.position, to), lt(workflowStates.position, from)),
          ),
        );
    }
    const [state] = await tx
      .update(workflowStates)
      .set({ name: changes.name ?? current.name, category: changes.category ?? current.category, position })
      .where(eq(workflowStates.id, stateId))
      .returning();
    await auditState(
      tx,
      caller,
      'state.update',
      stateId,
      projectId,
      changedValues(stateFields(current), stateFields(state!)),
    );
    return stateWithCountPerCall(tx, state!);
  });
}

/**
 * Deletes a state. Its tasks (deleted ones too: they can be restored) must go somewhere: without
 * `move_to`, a state that holds any is a 409 with the count; with it, they move there as a transition
 * would move them (timestamps by category, a history entry each), whatever transitions are allowed.
 */
export function deleteState(
  db: Database,
  caller: Caller,
  projectId: string,
  stateId: string,
  moveTo: string | undefined,
) {
  return changeWorkflowPerCall(db, caller, projectId, async (tx, states) => {
    const doomed = states.find((state) => state.id === stateId);
    if (!doomed) throw notFound('state');
    const target =
      moveTo === undefined ? undefined : states.find((state) => state.id === moveTo && state.id !== stateId);
    if (moveTo !== undefined && !target) {
      throw validationFailed([{ path: 'query.move_to', message: 'must be another state of this project' }]);
    }
    requireStartAndFinish(states.filter((state) => state.id !== stateId).map((state) => state.category));
    const [held] = await tx
      .select({ all: count(), active: sql<number>`count(*) filter (where ${tasks.isActive})`.mapWith(Number) })
      .from(tasks)
      .where(eq(tasks.stateId, stateId));
    if (held!.all > 0) {
      if (!target) {
        throw conflict(
          'state_not_empty',
          `the state holds ${held!.all} task(s) (${held!.all - held!.active} of them deleted); pass move_to to move them to another state`,
        );
      }
      await moveTasksToStatePerCall(tx, caller, { fromStateId: stateId, to: target });
    }
    await tx.delete(workflowStates).where(eq(workflowStates.id, stateId));
    await auditState(tx, caller, 'state.delete', stateId, projectId, changedValues(stateFields(doomed), {}));
    await tx
      .update(workflowStates)
      .set({ position: sql`${workflowStates.position} - 1` })
      .where(and(eq(workflowStates.projectId, projectId), gt(workflowStates.position, doomed.position)));
  });
}

export interface Transition {
  fromStateId: string;
  toStateId: string;
}

export interface AllowedTransitions {
  restricted: boolean;
  /** The allowed pairs when restricted; none listed otherwise (every move between different states). */
  transitions: Transition[];
}

/**
 * The allowed moves. An unrestricted project lists none: every move between two different states is
 * allowed, and listing them would be N x (N - 1) pairs for a viewer to make the worker build.
 */
export async function listTransitions(db: Database, caller: Caller, projectId: string): Promise<AllowedTransitions> {
  const { project, standing } = await findProjectWithStanding(db, caller, projectId);
  requireAccess(project, standing, 'readTasks');
  if (!project!.transitionsRestricted) return { restricted: false, transitions: [] };
  return { restricted: true, transitions: await restrictedTransitions(db, projectId) };
}

const restrictedTransitions = (db: Database, projectId: string) =>
  db
    .select({ fromStateId: workflowTransitions.fromStateId, toStateId: workflowTransitions.toStateId })
    .from(workflowTransitions)
    .where(eq(workflowTransitions.projectId, projectId))
    .orderBy(asc(workflowTransitions.fromStateId), asc(workflowTransitions.toStateId));

/** Transitions as the audit trail records them, `[from, to]` each; `null` when every move is allowed. */
const asPairs = (list: Transition[] | null) => list?.map((pair) => [pair.fromStateId, pair.toStateId]) ?? null;

/** Replaces the allowed moves with `pairs` (each between two different states of the project); the project is restricted from then on. */
export function replaceTransitions(
  db: Database,
  caller: Caller,
  projectId: string,
  pairs: Transition[],
): Promise<AllowedTransitions> {
  return changeWorkflowPerCall(db, caller, projectId, async (tx, states) => {
    const known = new Set(states.map((state) => state.id));
    const errors = pairs.flatMap((pair, index) => [
      ...(known.has(pair.fromStateId)
        ? []
        : [{ path: `body.${index}.from_state_id`, message: 'is not a state of this project' }]),
      ...(known.has(pair.toStateId)
        ? []
        : [{ path: `body.${index}.to_state_id`, message: 'is not a state of this project' }]),
      ...(pair.fromStateId === pair.toStateId
        ? [{ path: `body.${index}`, message: 'a transition joins two different states' }]
        : []),
    ]);
    if (errors.length > 0) throw validationFailed(errors.slice(0, 50));
    const unique = [...new Map(pairs.map((pair) => [`${pair.fromStateId}>${pair.toStateId}`, pair])).values()];
    const [project] = await tx
      .select({ restricted: projects.transitionsRestricted })
      .from(projects)
      .where(eq(projects.id, projectId));
    const before = project!.restricted ? await restrictedTransitions(tx, projectId) : null;
    await tx.update(projects).set({ transitionsRestricted: true }).where(eq(projects.id, projectId));
    await tx.delete(workflowTransitions).where(eq(workflowTransitions.projectId, projectId));
    if (unique.length > 0) await tx.insert(workflowTransitions).values(unique.map((pair) => ({ projectId, ...pair })));
    const after = await restrictedTransitions(tx, projectId);
    await auditInsertPerCall(tx, caller, {
      action: 'state.transitions_replace',
      entityType: 'project',
      entityId: projectId,
      projectId,
      changes: changedValues({ transitions: asPairs(before) }, { transitions: asPairs(after) }),
    });
    return { restricted: true, transitions: after };
  });
}
