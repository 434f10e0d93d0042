CREATE TABLE "api_keys" (
	"id" uuid PRIMARY KEY NOT NULL,
	"user_id" uuid NOT NULL,
	"name" text NOT NULL,
	"key_hash" text NOT NULL,
	"prefix" text NOT NULL,
	"scopes" text[] NOT NULL,
	"project_ids" uuid[],
	"max_role" text,
	"created_at" timestamp with time zone DEFAULT now() NOT NULL,
	"expires_at" timestamp with time zone NOT NULL,
	"last_used_at" timestamp with time zone,
	"last_used_ip" text,
	"revoked_at" timestamp with time zone,
	CONSTRAINT "api_keys_scopes" CHECK ("api_keys"."scopes" <@ array['projects:read', 'projects:write', 'members:read', 'members:write', 'tasks:read', 'tasks:write', 'workflows:write', 'audit:read', 'admin', 'account:write']::text[]),
	CONSTRAINT "api_keys_max_role" CHECK ("api_keys"."max_role" in ('viewer', 'editor', 'manager'))
);
--> statement-breakpoint
ALTER TABLE "audit_events" DROP CONSTRAINT "audit_events_action";--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "credential" text;--> statement-breakpoint
ALTER TABLE "audit_events" ADD COLUMN "api_key_id" uuid;--> statement-breakpoint
ALTER TABLE "api_keys" ADD CONSTRAINT "api_keys_user_id_users_id_fk" FOREIGN KEY ("user_id") REFERENCES "public"."users"("id") ON DELETE cascade ON UPDATE no action;--> statement-breakpoint
CREATE INDEX "api_keys_user_idx" ON "api_keys" USING btree ("user_id","created_at","id");--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_credential" CHECK ("audit_events"."credential" in ('session', 'api_key') and ("audit_events"."api_key_id" is null) = ("audit_events"."credential" = 'session'));--> statement-breakpoint
ALTER TABLE "audit_events" ADD CONSTRAINT "audit_events_action" CHECK ("audit_events"."action" in ('user.signup', 'user.update', 'user.role_change', 'user.status_change', 'user.password_change', 'user.password_reset_request', 'user.password_reset', 'user.email_verify_request', 'user.email_verify', 'user.email_change_request', 'user.email_change', 'session.revoke', 'session.revoke_all', 'api_key.create', 'api_key.revoke', 'project.create', 'project.update', 'project.delete', 'project.restore', 'project.transfer', 'member.add', 'member.role_change', 'member.remove', 'invitation.create', 'invitation.withdraw', 'invitation.accept', 'state.create', 'state.update', 'state.delete', 'state.transitions_replace', 'task.create', 'task.update', 'task.transition', 'task.delete', 'task.restore', 'auth.login_failed'));--> statement-breakpoint
-- The user's live API keys, read with a fresh snapshot (VOLATILE): a new key's cap is judged after the
-- caller's row is locked (src/db/fresh-counts.ts).
CREATE FUNCTION live_api_keys(p_user uuid) RETURNS bigint
LANGUAGE plpgsql VOLATILE AS $$
BEGIN
  RETURN (SELECT count(*) FROM api_keys WHERE user_id = p_user AND revoked_at IS NULL AND expires_at > now());
END
$$;
