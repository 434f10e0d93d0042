-- Every index costs every insert, and an update that changes an indexed column cannot be HOT (it writes
-- a new entry into every index of the table). An owner's listing reads all of that owner's rows anyway,
-- because its page carries the total (count(*) over ()), so a sort by name or updated_at is a sort of those
-- rows in memory, not an index-ordered scan. These two indexes therefore cost every write and bought
-- little; the default order (created_at) keeps its own index. Measured in bench/README.md.
DROP INDEX "projects_owner_active_updated_idx";--> statement-breakpoint
DROP INDEX "projects_owner_active_name_idx";
