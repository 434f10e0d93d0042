-- Task positions are keys compared byte by byte (src/modules/tasks/position.ts), whatever the database's
-- default collation.
ALTER TABLE "tasks" ALTER COLUMN "position" SET DATA TYPE text COLLATE "C";
--> statement-breakpoint
-- Every existing project gets the workflow new projects are created with (DEFAULT_WORKFLOW in src/db/schema.ts).
INSERT INTO "workflow_states" ("project_id", "name", "category", "position")
SELECT p."id", d."name", d."category", d."position"
FROM "projects" p
CROSS JOIN (VALUES
  ('Backlog', 'backlog', 0),
  ('To do', 'unstarted', 1),
  ('In progress', 'started', 2),
  ('In review', 'started', 3),
  ('Done', 'completed', 4),
  ('Canceled', 'canceled', 5)
) AS d("name", "category", "position")
WHERE NOT EXISTS (SELECT 1 FROM "workflow_states" s WHERE s."project_id" = p."id");
