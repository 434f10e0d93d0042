-- The two roles every user references; later roles are added by migrations the same way.
INSERT INTO "roles" ("name", "description") VALUES
  ('user', 'Manages their own projects'),
  ('admin', 'Manages users and can act on every project')
ON CONFLICT ("name") DO NOTHING;
