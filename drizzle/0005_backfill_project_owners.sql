-- Every project's owner becomes its member with role `owner` (project_members holds the owner too; see
-- src/db/schema.ts). Projects created from now on get that row in the statement that creates them.
INSERT INTO "project_members" ("project_id", "user_id", "role", "project_created_at", "added_at", "added_by")
SELECT "id", "owner_id", 'owner', "created_at", "created_at", "owner_id" FROM "projects"
ON CONFLICT DO NOTHING;
