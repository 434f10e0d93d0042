import { expect } from 'vitest';
import { sql } from './db.ts';
import type { ApiResponse } from './http.ts';

export interface StoredEvent {
  id: string;
  at: Date;
  actor_id: string | null;
  action: string;
  entity_type: string;
  entity_id: string;
  project_id: string | null;
  request_id: string | null;
  ip: string | null;
  user_agent: string | null;
  changes: Record<string, { old: unknown; new: unknown }>;
}

/** The audit events the request behind `response` wrote, in order (its X-Request-Id is theirs). */
export async function eventsOf(response: ApiResponse): Promise<StoredEvent[]> {
  const requestId = response.headers.get('X-Request-Id');
  expect(requestId).toBeTruthy();
  return (await sql()`select * from audit_events where request_id = ${requestId} order by id`) as unknown as StoredEvent[];
}

/** Every event about `entityId`, oldest first. */
export const eventsAbout = async (entityId: string): Promise<StoredEvent[]> =>
  (await sql()`select * from audit_events where entity_id = ${entityId} order by id`) as unknown as StoredEvent[];
