/**
 * `npm run seed:demo`: demo users (their logins printed), projects, members and tasks in the development database, through
 * the API's own services, so every rule and hash is what the API applies. Run it again and it adds nothing
 * twice. DATABASE_URL selects another database; only a local one (loopback) unless --allow-remote, since
 * the demo passwords are printed here for anyone to read.
 */
import { parseArgs } from 'node:util';
import type { RoleName } from '../src/db/schema.ts';
import { trustedCaller } from '../src/lib/actor.ts';
import { createUser, findUserByEmail } from '../src/modules/users/users.service.ts';
import { describeToolError, openToolDatabase } from './lib/tool-database.ts';
import { allowWorkerModulesInNode } from './lib/worker-modules.ts';

allowWorkerModulesInNode();
const { createProject } = await import('../src/modules/projects/projects.service.ts');
const { acceptInvitation, inviteToProject } = await import('../src/modules/invitations/invitations.service.ts');
const { listStates } = await import('../src/modules/workflows/workflows.service.ts');
const { createTask } = await import('../src/modules/tasks/tasks.service.ts');

interface DemoTask {
  title: string;
  /** A state of the default workflow, by name; the first unstarted one if left out. */
  state?: string;
  assignee?: string;
  priority?: 'none' | 'low' | 'medium' | 'high' | 'urgent';
}

interface DemoUser {
  email: string;
  fullName: string;
  role: RoleName;
  /** Projects this user owns, with the other demo users added to each. */
  projects: {
    name: string;
    description: string;
    members?: [email: string, role: 'viewer' | 'editor' | 'manager'][];
    tasks?: DemoTask[];
  }[];
}

const DEMO_PASSWORD = 'demo password, not for production';

const DEMO_USERS: DemoUser[] = [
  {
    email: 'ada.demo@example.com',
    fullName: 'Ada Lovelace',
    role: 'admin',
    projects: [{ name: 'Analytical Engine', description: 'Notes on the engine and its first program' }],
  },
  {
    email: 'grace.demo@example.com',
    fullName: 'Grace Hopper',
    role: 'user',
    projects: [
      {
        name: 'Website relaunch',
        description: 'Everything for the Q3 launch',
        members: [
          ['linus.demo@example.com', 'editor'],
          ['ada.demo@example.com', 'viewer'],
        ],
        tasks: [
          {
            title: 'Draft the launch announcement',
            state: 'In progress',
            assignee: 'grace.demo@example.com',
            priority: 'high',
          },
          { title: 'Pick the new colour palette', state: 'Done', assignee: 'linus.demo@example.com' },
          { title: 'Migrate the blog posts', assignee: 'linus.demo@example.com', priority: 'medium' },
          { title: 'Load-test the new pages', state: 'Backlog', priority: 'low' },
          {
            title: 'Review the privacy page',
            state: 'In review',
            assignee: 'grace.demo@example.com',
            priority: 'urgent',
          },
        ],
      },
      { name: 'Compiler', description: 'From English-like statements to machine code' },
    ],
  },
  {
    email: 'linus.demo@example.com',
    fullName: 'Linus Torvalds',
    role: 'user',
    projects: [
      { name: 'Kernel docs', description: 'How the pieces fit', members: [['grace.demo@example.com', 'manager']] },
    ],
  },
];

const LOOPBACK_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]', '::1']);

async function main() {
  const { values } = parseArgs({ options: { 'allow-remote': { type: 'boolean', default: false } } });
  const { url, db, config, close } = await openToolDatabase();
  if (!LOOPBACK_HOSTS.has(new URL(url).hostname) && !values['allow-remote']) {
    console.error(
      'error: refusing to seed demo accounts with published passwords into a non-local database (pass --allow-remote to insist)',
    );
    process.exit(1);
  }
  try {
    // Users first, so every project's members exist when it is created.
    const created = new Map<string, string>();
    for (const demo of DEMO_USERS) {
      const existing = await findUserByEmail(db, demo.email);
      if (existing) {
        console.log(`exists   ${demo.email.padEnd(26)} (${existing.role}); left as it is`);
        continue;
      }
      const user = await createUser(
        db,
        { email: demo.email, password: DEMO_PASSWORD, fullName: demo.fullName, role: demo.role },
        config.passwordPolicy,
        null,
      );
      created.set(demo.email, user.id);
    }
    for (const demo of DEMO_USERS) {
      const ownerId = created.get(demo.email);
      if (!ownerId) continue;
      const owner = trustedCaller(ownerId);
      for (const project of demo.projects) {
        const { id } = await createProject(db, owner, project);
        // Members join as anyone does: the owner invites them, and they accept (their addresses are verified).
        for (const [email, role] of project.members ?? []) {
          const { invitation } = await inviteToProject(db, owner, id, { email, role }, config);
          const member = await findUserByEmail(db, email);
          await acceptInvitation(db, trustedCaller(member!.id), { invitationId: invitation.id });
        }
        const states = new Map((await listStates(db, owner, id)).map((state) => [state.name, state.id]));
        for (const task of project.tasks ?? []) {
          const assignee = task.assignee === undefined ? undefined : await findUserByEmail(db, task.assignee);
          await createTask(db, owner, id, {
            title: task.title,
            priority: task.priority ?? 'none',
            state_id: task.state === undefined ? undefined : states.get(task.state),
            assignee_id: assignee?.id ?? null,
          });
        }
      }
      console.log(`created  ${demo.email.padEnd(26)} (${demo.role}) with ${demo.projects.length} project(s)`);
    }
    console.log(`\nLog in as any of them with the password: ${DEMO_PASSWORD}`);
  } catch (error) {
    console.error(`error: ${describeToolError(error)}`);
    process.exitCode = 1;
  } finally {
    await close();
  }
}

await main();
