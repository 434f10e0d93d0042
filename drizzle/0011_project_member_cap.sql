-- A project has at most 1000 members (README, "Limits"). Checked here rather than in the adding statement:
-- that statement's snapshot predates the lock it waits for, so a count there could miss a concurrent add.
-- The trigger first takes the project row's lock (the one the adding statement already holds), then counts
-- with a fresh snapshot, which READ COMMITTED gives each statement of a PL/pgSQL function: concurrent adds
-- to one project count one after another. SQLSTATE AFM01 is mapped to 409 member_limit_reached.
CREATE FUNCTION project_members_cap() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM 1 FROM projects WHERE id = NEW.project_id FOR NO KEY UPDATE;
  IF (SELECT count(*) FROM project_members WHERE project_id = NEW.project_id) >= 1000 THEN
    RAISE EXCEPTION 'a project has at most 1000 members' USING ERRCODE = 'AFM01';
  END IF;
  RETURN NEW;
END
$$;
--> statement-breakpoint
CREATE TRIGGER project_members_cap BEFORE INSERT ON project_members FOR EACH ROW EXECUTE FUNCTION project_members_cap();
