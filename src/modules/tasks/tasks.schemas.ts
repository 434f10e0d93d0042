import { z } from '@hono/zod-openapi';
import { TASK_PRIORITIES, type TaskEventRow, type TaskRow, type WorkflowStateRow } from '../../db/schema.ts';
import { booleanQuery, PaginationQuery, type ListOrder } from '../../lib/pagination.ts';
import { atLeastOneOf, IdParams, multiLineText, singleLineText, timestamp } from '../../lib/validation.ts';
import { StateCategorySchema } from '../workflows/workflows.schemas.ts';

export const TaskPrioritySchema = z
  .enum(TASK_PRIORITIES, `must be one of ${TASK_PRIORITIES.join(', ')}`)
  .openapi('TaskPriority');

const dateField = z.iso.date('must be a real date, YYYY-MM-DD').openapi({ example: '2026-12-24' });

export const TaskSchema = z
  .object({
    id: z.uuid(),
    project_id: z.uuid(),
    number: z.number().int().openapi({ description: 'Per project: 1, 2, 3, ... never reused', example: 42 }),
    title: z.string().openapi({ example: 'Write the launch post' }),
    description: z.string().nullable(),
    state: z.object({ id: z.uuid(), name: z.string(), category: StateCategorySchema }).openapi('TaskState'),
    priority: TaskPrioritySchema,
    assignee_id: z.uuid().nullable(),
    due_date: dateField.nullable(),
    position: z.string().openapi({
      description: 'Order within the state: compare as strings; change it with before_id or after_id',
      example: '000000000042',
    }),
    created_by: z.uuid().nullable(),
    created_at: timestamp,
    updated_at: timestamp,
    started_at: timestamp.nullable(),
    completed_at: timestamp.nullable(),
    canceled_at: timestamp.nullable(),
    version: z
      .number()
      .int()
      .openapi({ description: 'Bumped on every change; the ETag is derived from it', example: 1 }),
    is_active: z.boolean(),
    deleted_at: timestamp.nullable(),
  })
  .openapi('Task');
export type TaskResponse = z.infer<typeof TaskSchema>;

export type TaskView = TaskRow & { state: Pick<WorkflowStateRow, 'id' | 'name' | 'category'> };

const iso = (date: Date | null) => date?.toISOString() ?? null;

export function toTaskResponse(task: TaskView): TaskResponse {
  return {
    id: task.id,
    project_id: task.projectId,
    number: task.number,
    title: task.title,
    description: task.description,
    state: task.state,
    priority: TASK_PRIORITIES[task.priority]!,
    assignee_id: task.assigneeId,
    due_date: task.dueDate,
    position: task.position,
    created_by: task.createdBy,
    created_at: task.createdAt.toISOString(),
    updated_at: task.updatedAt.toISOString(),
    started_at: iso(task.startedAt),
    completed_at: iso(task.completedAt),
    canceled_at: iso(task.canceledAt),
    version: task.version,
    is_active: task.isActive,
    deleted_at: iso(task.deletedAt),
  };
}

const title = singleLineText(1, 200).openapi({ example: 'Write the launch post' });
const description = multiLineText(20_000).nullable().openapi({ description: '`null` clears it' });
const assigneeId = z
  .uuid('must be a UUID')
  .nullable()
  .openapi({ description: 'The owner or a current member; `null` unassigns' });

// Unknown keys (id, number, version, timestamps, created_by) are stripped: clients cannot set them.
export const CreateTaskBody = z
  .object({
    title,
    description: description.optional(),
    state_id: z
      .uuid('must be a UUID')
      .optional()
      .openapi({ description: "Default: the project's first unstarted state (or backlog)" }),
    priority: TaskPrioritySchema.default('none'),
    assignee_id: assigneeId.optional(),
    due_date: dateField.nullable().optional(),
  })
  .openapi('CreateTaskRequest');

const UPDATABLE = ['title', 'description', 'priority', 'assignee_id', 'due_date', 'before_id', 'after_id'] as const;

export const UpdateTaskBody = z
  .object({
    title: title.optional(),
    description: description.optional(),
    priority: TaskPrioritySchema.optional(),
    assignee_id: assigneeId.optional(),
    due_date: dateField.nullable().optional(),
    before_id: z
      .uuid('must be a UUID')
      .optional()
      .openapi({ description: 'Move the task just above this task of the same state' }),
    after_id: z
      .uuid('must be a UUID')
      .optional()
      .openapi({ description: 'Move the task just below this task of the same state' }),
    // Other keys are ignored (ids, numbers and timestamps are never the client's to set), but a state_id is
    // refused with a pointer to the one place a state changes rather than silently dropped.
    state_id: z.unknown().optional().openapi({
      not: {},
      description: 'Never accepted: a task changes state only through `POST /tasks/{id}/transition`',
    }),
  })
  .refine((body) => !('state_id' in body), {
    message: 'a task changes state only through POST /tasks/{id}/transition',
    path: ['state_id'],
  })
  .refine((body) => !(body.before_id && body.after_id), {
    message: 'give before_id or after_id, not both',
    path: ['after_id'],
  })
  .refine((body) => UPDATABLE.some((field) => body[field] !== undefined), {
    message: `provide at least one of ${UPDATABLE.join(', ')}`,
  })
  .openapi('UpdateTaskRequest', { anyOf: atLeastOneOf(UPDATABLE) });
export type TaskChanges = Pick<z.infer<typeof UpdateTaskBody>, (typeof UPDATABLE)[number]>;

export const TransitionTaskBody = z.object({ to_state_id: z.uuid('must be a UUID') }).openapi('TransitionTaskRequest');

export const TASK_SORTS = [
  'position',
  '-position',
  'priority',
  '-priority',
  'due_date',
  '-due_date',
  'number',
  '-number',
  'created_at',
  '-created_at',
  'updated_at',
  '-updated_at',
] as const;
export type TaskSort = (typeof TASK_SORTS)[number];

/** The order a sort names, for its cursors: a project's tasks break ties by number, the caller's own (from many projects) by id. */
export const taskListOrder = (list: 'project' | 'mine', sort: TaskSort): ListOrder => {
  const field = sort.replace('-', '');
  const key =
    field === 'position'
      ? 'text'
      : field === 'priority' || field === 'number'
        ? 'integer'
        : field === 'due_date'
          ? 'date'
          : 'timestamp';
  return { name: `tasks:${list}:${sort}`, key, tie: list === 'project' ? 'integer' : 'uuid' };
};

const taskFilters = {
  state_id: z.uuid('must be a UUID').optional(),
  category: StateCategorySchema.optional(),
  priority: TaskPrioritySchema.optional(),
  due_before: dateField.optional().openapi({ description: 'Due on or before this date' }),
  due_after: dateField.optional().openapi({ description: 'Due on or after this date' }),
  q: singleLineText(0, 200).optional().openapi({ description: 'Case-insensitive substring of the title' }),
};

export const ListTasksQuery = PaginationQuery.extend({
  ...taskFilters,
  assignee_id: z
    .union([z.literal('me'), z.literal('none'), z.uuid()], 'must be a UUID, me or none')
    .optional()
    .openapi({
      type: 'string',
      pattern: '^(me|none|[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})$',
      description: "A member's id, `me` or `none`",
    }),
  include_deleted: booleanQuery
    .optional()
    .openapi({ description: 'Managers, owners and admins: include soft-deleted tasks' }),
  sort: z
    .enum(TASK_SORTS, `must be one of ${TASK_SORTS.join(', ')}`)
    .default('-number')
    .openapi({
      description:
        'number (the default, newest first) and position page by index at any depth; the others read every matching task',
    }),
});

export const MyTasksQuery = PaginationQuery.extend({
  ...taskFilters,
  assignee: z.literal('me', 'must be me').openapi({ description: 'Whose tasks: only `me` for now' }),
  project_id: z.uuid('must be a UUID').optional(),
  sort: z.enum(TASK_SORTS, `must be one of ${TASK_SORTS.join(', ')}`).default('-created_at'),
});

export const TaskParams = z.object({
  id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'id', in: 'path' }, example: '7a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d' }),
});
export const ProjectParams = IdParams;

export const HistoryEntrySchema = z
  .object({
    id: z.number().int(),
    kind: z.enum(['state', 'assignee']).openapi({
      description: '`state`: a state change (from/to are state ids); `assignee`: an assignment (user ids)',
    }),
    from: z.uuid().nullable(),
    to: z.uuid().nullable(),
    actor_id: z.uuid().nullable(),
    at: timestamp,
  })
  .openapi('TaskHistoryEntry');

export function toHistoryResponse(event: TaskEventRow): z.infer<typeof HistoryEntrySchema> {
  return {
    id: event.id,
    kind: event.kind,
    from: event.fromId,
    to: event.toId,
    actor_id: event.actorId,
    at: event.at.toISOString(),
  };
}

export const HISTORY_ORDER: ListOrder = { name: 'task_history', key: 'timestamp', tie: 'integer' };
export const HistoryQuery = PaginationQuery;
