CREATE TABLE "audit_events" (
	"id" bigserial PRIMARY KEY NOT NULL,
	"at" timestamp with time zone DEFAULT now() NOT NULL,
	"actor_id" uuid,
	"action" text NOT NULL,
	"entity_type" text NOT NULL,
	"entity_id" uuid NOT NULL,
	"project_id" uuid,
	"request_id" text,
	"ip" text,
	"user_agent" text,
	"changes" jsonb NOT NULL,
	CONSTRAINT "audit_events_action" CHECK ("audit_events"."action" in ('user.signup', 'user.update', 'user.role_change', 'user.status_change', 'user.password_change', 'session.revoke', 'session.revoke_all', 'project.create', 'project.update', 'project.delete', 'project.restore', 'project.transfer', 'member.add', 'member.role_change', 'member.remove', 'state.create', 'state.update', 'state.delete', 'state.transitions_replace', 'task.create', 'task.update', 'task.transition', 'task.delete', 'task.restore', 'auth.login_failed'))
);
--> statement-breakpoint
CREATE INDEX "audit_events_at_idx" ON "audit_events" USING btree ("at","id");--> statement-breakpoint
CREATE INDEX "audit_events_project_idx" ON "audit_events" USING btree ("project_id","at","id") WHERE "audit_events"."project_id" is not null;--> statement-breakpoint
CREATE INDEX "audit_events_actor_idx" ON "audit_events" USING btree ("actor_id","at","id");--> statement-breakpoint
CREATE INDEX "audit_events_entity_idx" ON "audit_events" USING btree ("entity_id","at","id");