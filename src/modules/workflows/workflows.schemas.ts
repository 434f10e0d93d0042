import { z } from '@hono/zod-openapi';
import { STATE_CATEGORIES, type WorkflowStateRow } from '../../db/schema.ts';
import { atLeastOneOf, IdParams, singleLineText } from '../../lib/validation.ts';

/** The most states MAX_STATES_PER_PROJECT may allow: their every move (80 x 79 pairs) fits in a 1 MiB body. */
export const MAX_STATES_CEILING = 80;
export const MAX_TRANSITIONS = MAX_STATES_CEILING * (MAX_STATES_CEILING - 1);

export const StateCategorySchema = z
  .enum(STATE_CATEGORIES, `must be one of ${STATE_CATEGORIES.join(', ')}`)
  .openapi('StateCategory', {
    description:
      "What a state means, whatever its name: entering `started` sets a task's started_at, `completed` its completed_at, `canceled` its canceled_at",
  });

export const StateSchema = z
  .object({
    id: z.uuid(),
    name: z.string().openapi({ example: 'In review' }),
    category: StateCategorySchema,
    position: z.number().int().openapi({ description: 'Order in the workflow, from 0', example: 3 }),
    task_count: z.number().int().openapi({ description: 'Tasks in this state (not deleted ones)', example: 12 }),
  })
  .openapi('WorkflowState');
export type StateView = WorkflowStateRow & { taskCount: number };

export function toStateResponse(state: StateView): z.infer<typeof StateSchema> {
  return {
    id: state.id,
    name: state.name,
    category: state.category,
    position: state.position,
    task_count: state.taskCount,
  };
}

const stateName = singleLineText(1, 100).openapi({ example: 'In review' });
const position = z
  .number('must be a whole number')
  .int('must be a whole number')
  .min(0, 'must not be negative')
  .max(1000, 'must be at most 1000')
  .openapi({ description: 'Where in the workflow (0 is first); the states from there on move down one' });

export const CreateStateBody = z
  .object({
    name: stateName,
    category: StateCategorySchema,
    position: position.optional().openapi({ description: 'Default: last' }),
  })
  .openapi('CreateStateRequest');

export const UpdateStateBody = z
  .object({ name: stateName.optional(), category: StateCategorySchema.optional(), position: position.optional() })
  .refine((body) => body.name !== undefined || body.category !== undefined || body.position !== undefined, {
    message: 'provide at least one of name, category, position',
  })
  .openapi('UpdateStateRequest', { anyOf: atLeastOneOf(['name', 'category', 'position']) });

export const StateParams = IdParams.extend({
  state_id: z
    .uuid('must be a UUID')
    .openapi({ param: { name: 'state_id', in: 'path' }, example: '3f2c1b0a-9d8e-4f7a-8b6c-5d4e3f2a1b0c' }),
});

export const DeleteStateQuery = z.object({
  move_to: z
    .uuid('must be a UUID')
    .optional()
    .openapi({ description: "Another state of the project to move the state's tasks to; required when it holds any" }),
});

export const TransitionSchema = z
  .object({ from_state_id: z.uuid('must be a UUID'), to_state_id: z.uuid('must be a UUID') })
  .openapi('WorkflowTransition');

export const TransitionsSchema = z
  .object({
    restricted: z.boolean().openapi({
      description:
        'false: every move between two different states is allowed, and `transitions` is empty; true: only the listed moves',
    }),
    transitions: z.array(TransitionSchema).openapi({ description: 'The allowed moves when `restricted`' }),
  })
  .openapi('WorkflowTransitions');

export const toTransitionsResponse = (allowed: {
  restricted: boolean;
  transitions: { fromStateId: string; toStateId: string }[];
}) => ({
  restricted: allowed.restricted,
  transitions: allowed.transitions.map((pair) => ({ from_state_id: pair.fromStateId, to_state_id: pair.toStateId })),
});

export const ReplaceTransitionsBody = z
  .array(TransitionSchema)
  .max(MAX_TRANSITIONS, `at most ${MAX_TRANSITIONS} transitions`)
  .openapi('ReplaceTransitionsRequest', {
    description: 'Every allowed move; any move not listed is refused from now on',
  });
