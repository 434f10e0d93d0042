import { signedIn } from '../../middleware/auth.ts';
import { ACTION_SCOPES, REQUIRED_ROLE, whoMay, type ProjectAction } from './access.ts';

/**
 * A project-scoped route's access rule, generated from the role table: signed in (`signedIn`, under OpenAPI
 * tag `tag`) with an API key holding the action's scope or a session, and as the OpenAPI operation publishes
 * it: the summary names who may, the description the least role and the key scope, and `x-required-role`
 * says it for machines. Spread into the route's `createRoute`; test/platform/required-roles.test.ts holds
 * each to the access matrices and the README.
 */
export function projectRoute(tag: string, action: ProjectAction, summary: string, description?: string) {
  const role = REQUIRED_ROLE[action];
  return {
    ...signedIn(tag, ACTION_SCOPES[action]),
    summary: `${summary} (${whoMay(action)})`,
    description: [
      `Needs the \`${role}\` role in the project or a higher one, or admin; an API key needs the \`${ACTION_SCOPES[action]}\` scope.`,
      description,
    ]
      .filter(Boolean)
      .join(' '),
    'x-required-role': role,
  } as const;
}
