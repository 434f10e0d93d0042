-- Login throttling moves to per-network and account-wide keys (modules/auth/throttle.ts). The old
-- per-email counters do not translate; dropping them forgets at most a day of failures.
CREATE TABLE "auth_throttles" (
	"key_hash" text PRIMARY KEY NOT NULL,
	"attempts" integer NOT NULL,
	"blocked_until" timestamp with time zone,
	"last_attempt_at" timestamp with time zone DEFAULT now() NOT NULL,
	"succeeded_at" timestamp with time zone
);
--> statement-breakpoint
DROP TABLE "login_throttles" CASCADE;--> statement-breakpoint
ALTER TABLE "sessions" ADD COLUMN "token_epoch" integer DEFAULT 0 NOT NULL;--> statement-breakpoint
CREATE INDEX "auth_throttles_last_attempt_idx" ON "auth_throttles" USING btree ("last_attempt_at");--> statement-breakpoint
-- Live sessions carry the epoch their user has now: each was valid under it when this ran.
UPDATE "sessions" SET "token_epoch" = "users"."token_epoch" FROM "users" WHERE "users"."id" = "sessions"."user_id";
