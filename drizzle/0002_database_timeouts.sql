-- Server-side limits, so a stalled statement is cancelled by PostgreSQL itself (and rolled back) rather
-- than left running after the API has given up on it. They apply to every new session on this database,
-- whatever pooler (Hyperdrive, PgBouncer) sits in between. The API answers these cancellations with 503.
-- Long-running maintenance (migrations, bulk loads) sets its own session values.
DO $$
BEGIN
  EXECUTE format('ALTER DATABASE %I SET statement_timeout = %L', current_database(), '5s');
  EXECUTE format('ALTER DATABASE %I SET lock_timeout = %L', current_database(), '3s');
  EXECUTE format('ALTER DATABASE %I SET idle_in_transaction_session_timeout = %L', current_database(), '10s');
END
$$;
