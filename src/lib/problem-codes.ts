/**
 * Every problem's `code`: a stable snake_case identifier clients branch on instead of parsing `detail`.
 * The one list: AppError takes only these, the OpenAPI ProblemSchema publishes them as an enum, and the
 * README's table is checked against it (test/cli/problem-codes.test.ts). A code is never renamed; a new
 * refusal gets a new code.
 */
export const PROBLEM_CODES = {
  malformed_json: [400, 'The body is not well-formed JSON (or form data)'],
  token_missing: [401, 'No bearer token was sent'],
  token_invalid: [
    401,
    'The token is malformed, tampered with, of another kind, or revoked (logout-all, password or role change)',
  ],
  token_expired: [401, 'The access token has expired; refresh it'],
  credentials_invalid: [401, 'Wrong email or password'],
  refresh_token_invalid: [401, 'Not a refresh token this API issued'],
  refresh_token_expired: [401, 'The refresh token has expired; log in again'],
  refresh_token_reused: [401, 'The refresh token was already exchanged: it was copied, and its session is revoked'],
  session_revoked: [401, "The refresh token's session was revoked"],
  account_inactive: [403, 'The account is deactivated'],
  role_required: [403, 'The action needs the admin role'],
  project_role_required: [403, 'The action needs a higher role in the project'],
  current_password_wrong: [403, 'The current password given for a password change is wrong'],
  edge_required: [403, "In production, this route takes requests only through Cloudflare's edge"],
  not_found: [404, 'No such resource, or not one the caller may know of'],
  route_not_found: [404, 'No such route'],
  method_not_allowed: [405, 'The path does not take this method; see Allow'],
  transition_not_allowed: [409, "The project's workflow does not allow this move; see allowed"],
  already_in_state: [409, 'The task is already in that state'],
  email_taken: [409, 'An account with this email exists'],
  last_admin: [409, 'The last active admin cannot be demoted or deactivated'],
  self_deactivation: [409, 'An admin cannot deactivate their own account'],
  owner_immutable: [409, "The owner's membership cannot be changed or removed; transfer the project"],
  self_membership: [409, 'A member cannot add themselves or change their own role'],
  already_member: [409, 'The user is already a member (or the owner)'],
  already_owner: [409, 'The user already owns the project'],
  owner_not_member: [409, 'The new owner must be an active member of the project'],
  not_deleted: [409, 'Only a deleted resource can be restored'],
  state_name_taken: [409, 'The project already has a state with this name'],
  workflow_incomplete: [409, 'A workflow needs an unstarted or backlog state and a completed one'],
  state_not_empty: [409, 'The state holds tasks; pass move_to'],
  state_limit_reached: [409, 'The project has as many states as allowed'],
  member_limit_reached: [409, 'The project has as many members as allowed'],
  changed_meanwhile: [409, 'A concurrent change got in the way; retry'],
  precondition_failed: [412, 'If-Match does not name the current version; see ETag'],
  content_too_large: [413, 'The body is larger than 1 MiB'],
  unsupported_media_type: [415, 'The body is not application/json (or the login form)'],
  validation_failed: [422, 'The request failed validation; see errors'],
  password_too_weak: [422, 'The new password is too common, too simple, or contains the email; see errors'],
  rate_limited: [429, 'Too many requests from this address; see Retry-After'],
  too_many_attempts: [429, 'Too many password attempts for this account; see Retry-After'],
  internal_error: [500, 'A bug: the request_id finds it in the logs'],
  database_unavailable: [503, 'The database cannot be reached; see Retry-After'],
  timed_out: [503, 'The request took too long; see Retry-After'],
} as const satisfies Record<string, readonly [number, string]>;

export type ProblemCode = keyof typeof PROBLEM_CODES;
export const PROBLEM_CODE_NAMES = Object.keys(PROBLEM_CODES) as [ProblemCode, ...ProblemCode[]];
