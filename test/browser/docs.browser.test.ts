import { promises as fs } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import postgres from 'postgres';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT } from '../../scripts/lib/dev-database.ts';
import { freePort, startEmbeddedPostgres, type EmbeddedPostgres } from '../../scripts/lib/embedded-postgres.ts';
import { applyMigrations } from '../../scripts/lib/migrate.ts';
import { spawnWranglerDev, stopChild, waitUntilServing } from '../../scripts/lib/wrangler-dev.ts';
import type { ChildProcess } from 'node:child_process';

/**
 * /docs in a real browser: Debian's Chromium driven by playwright-core, against `wrangler dev` and a
 * throwaway embedded PostgreSQL, as a developer opens it. Run by `npm run test:browser` and by CI.
 */
const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
// Flags for a machine with no network: nothing in the background may try to reach Google.
const CHROMIUM_ARGS = [
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
export const SCREENSHOT_DIR = path.join(REPO_ROOT, 'test-results');

let database: EmbeddedPostgres;
let server: ChildProcess;
let browser: Browser;
let origin: string;
let workDir: string;
let serverOutput = '';

beforeAll(async () => {
  await fs.access(CHROMIUM).catch(() => {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install Debian's package (apt-get install -y chromium) or set CHROMIUM_PATH`,
    );
  });
  workDir = await fs.mkdtemp(path.join(os.tmpdir(), 'aegisflow-browser-'));
  await fs.chmod(workDir, 0o755);
  database = await startEmbeddedPostgres({
    dataDir: path.join(workDir, 'data'),
    port: await freePort(),
    password: 'browser-test',
    settings: { fsync: 'off' },
  });
  await database.createDatabase('aegisflow');
  await applyMigrations(database.url('aegisflow'));

  const port = await freePort();
  origin = `http://127.0.0.1:${port}`;
  server = spawnWranglerDev({
    port,
    databaseUrl: database.url('aegisflow'),
    vars: { APP_ENV: 'development', JWT_SECRET: `browser-${crypto.randomUUID()}-${crypto.randomUUID()}` },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  server.stdout?.on('data', (chunk: Buffer) => (serverOutput += chunk));
  server.stderr?.on('data', (chunk: Buffer) => (serverOutput += chunk));
  await waitUntilServing(`${origin}/health`, server, 90_000, () => serverOutput);
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS });
}, 180_000);

afterAll(async () => {
  await browser?.close();
  if (server) await stopChild(server);
  await database?.stop();
  if (workDir) await fs.rm(workDir, { recursive: true, force: true });
}, 60_000);

async function signUp(label: string) {
  const email = `${label}-${crypto.randomUUID()}@example.com`;
  const password = 'correct horse battery';
  const res = await fetch(`${origin}/auth/signup`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, password, full_name: 'Browser Tester' }),
  });
  expect(res.status).toBe(201);
  return { email, password };
}

/** A page that records every request leaving the API's origin, every CSP violation and every script error. */
async function openDocs(hash = '') {
  const page = await browser.newPage({ viewport: { width: 1280, height: 1600 } });
  const foreign: string[] = [];
  const problems: string[] = [];
  page.on('request', (request) => {
    const url = new URL(request.url());
    if (url.protocol !== 'data:' && url.origin !== origin) foreign.push(request.url());
  });
  page.on('console', (message) => {
    if (message.type() === 'error') problems.push(message.text());
  });
  page.on('pageerror', (error) => problems.push(error.message));
  await page.goto(`${origin}/docs${hash}`);
  await page.locator('.opblock').first().waitFor();
  return { page, foreign, problems };
}

async function screenshot(page: Page, name: string) {
  await fs.mkdir(SCREENSHOT_DIR, { recursive: true });
  const file = path.join(SCREENSHOT_DIR, name);
  await page.screenshot({ path: file, fullPage: false });
  console.log(`screenshot: ${file}`);
}

/**
 * Runs an operation through "Try it out" (path parameters filled in, and the JSON body when given) and returns
 * its status and the response section's text.
 */
async function tryOperation(page: Page, operationId: string, parameters: Record<string, string> = {}, body?: object) {
  const operation = page.locator(`#operations-${operationId}`);
  await operation.locator('.opblock-summary').first().click();
  await operation.locator('button.try-out__btn').click();
  for (const [name, value] of Object.entries(parameters))
    await operation.locator(`tr[data-param-name="${name}"] input`).fill(value);
  if (body) await operation.locator('textarea.body-param__text').fill(JSON.stringify(body));
  await operation.locator('button.execute').click();
  const live = operation.locator('.live-responses-table');
  const status = live.locator('tbody .response-col_status').first();
  await status.waitFor();
  return { operation, status: (await status.innerText()).trim(), body: await live.innerText() };
}

const tryGetCurrentUser = (page: Page) => tryOperation(page, 'auth-getCurrentUser');

/** Authorizes Swagger UI with a pasted bearer token (`bearerAuth`) or API key (`apiKey`). */
async function authorizeWithToken(page: Page, token: string, scheme: 'bearerAuth' | 'apiKey' = 'bearerAuth') {
  await page.locator('button.authorize').first().click();
  const dialog = page.locator('.dialog-ux');
  const bearer = dialog.locator('.auth-container', { hasText: scheme });
  await bearer.locator('input').first().fill(token);
  await bearer.locator('button.authorize').click();
  await dialog.locator('button.btn-done, button.close-modal').first().click();
}

async function accessToken(user: { email: string; password: string }): Promise<string> {
  const login = await fetch(`${origin}/auth/login`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email: user.email, password: user.password }),
  });
  return ((await login.json()) as { access_token: string }).access_token;
}

describe('/docs in headless Chromium', () => {
  it('lists the operations, logs in with email and password (OAuth2 password flow) and runs GET /auth/me', async () => {
    const user = await signUp('docs-oauth');
    const { page, foreign, problems } = await openDocs();
    for (const id of [
      'auth-signUp',
      'auth-logIn',
      'auth-getCurrentUser',
      'projects-listProjects',
      'projects-createProject',
      'admin-listUsers',
      'auth-forgotPassword',
      'invitations-createInvitation',
      'invitations-acceptInvitation',
    ]) {
      await expect(page.locator(`#operations-${id}`).count(), id).resolves.toBe(1);
    }

    await page.locator('button.authorize').first().click();
    const dialog = page.locator('.dialog-ux');
    await dialog.locator('#oauth_username').fill(user.email);
    await dialog.locator('#oauth_password').fill(user.password);
    await dialog
      .locator('.auth-container', { has: page.locator('#oauth_username') })
      .locator('button.authorize')
      .click();
    await dialog.getByText('Authorized', { exact: false }).first().waitFor();
    await dialog.locator('button.btn-done, button.close-modal').first().click();

    const { operation, status, body } = await tryGetCurrentUser(page);
    expect(status).toBe('200');
    expect(body).toContain(user.email);
    await operation.scrollIntoViewIfNeeded();
    await screenshot(page, 'docs-oauth-me.png');

    // What the page keeps: the access token alone, never the password or a refresh token.
    const stored = await page.evaluate(() => Object.fromEntries(Object.entries(localStorage)));
    expect(Object.keys(stored)).toEqual(['aegisflow.docs.access_token']);
    expect(stored['aegisflow.docs.access_token']).toMatch(/^eyJ/);
    expect(JSON.stringify(stored)).not.toContain(user.password);
    expect(JSON.stringify(stored)).not.toContain('refresh');
    // Loaded again (without the deep link the call above left in the address), the access token is
    // offered again as bearerAuth.
    await page.goto(`${origin}/docs`);
    await page.locator('.opblock').first().waitFor();
    const again = await tryGetCurrentUser(page);
    expect(again.status).toBe('200');

    expect(foreign, 'requests to another origin').toEqual([]);
    expect(problems, 'console errors, CSP violations, script errors').toEqual([]);
    await page.close();
  });

  it('authorizes with an API key (the apiKey scheme) and runs GET /auth/me with it', async () => {
    const user = await signUp('docs-key');
    const made = await fetch(`${origin}/auth/api-keys`, {
      method: 'POST',
      headers: { Authorization: `Bearer ${await accessToken(user)}`, 'Content-Type': 'application/json' },
      body: JSON.stringify({
        name: 'docs',
        scopes: ['projects:read'],
        expires_at: new Date(Date.now() + 86_400_000).toISOString(),
      }),
    });
    expect(made.status).toBe(201);
    const { key } = (await made.json()) as { key: string };
    const { page, foreign, problems } = await openDocs();
    await authorizeWithToken(page, key, 'apiKey');
    const { status, body } = await tryGetCurrentUser(page);
    expect(status).toBe('200');
    expect(body).toContain(user.email);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('authorizes with a pasted bearer token too, and keeps it across a reload (the access token only)', async () => {
    const user = await signUp('docs-token');
    const { page, foreign, problems } = await openDocs();
    await authorizeWithToken(page, await accessToken(user));

    await page.reload();
    await page.locator('.opblock').first().waitFor();
    const { status, body } = await tryGetCurrentUser(page);
    expect(status).toBe('200');
    expect(body).toContain(user.email);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it("runs the audit trail and a project's activity from the page", async () => {
    const user = await signUp('docs-audit');
    // An admin, made as `npm run user:promote` makes one: straight in the database.
    const db = postgres(database.url('aegisflow'), { onnotice: () => {} });
    await db`update users set role = 'admin' where email = ${user.email}`;
    await db.end();
    const token = await accessToken(user);
    const project = await fetch(`${origin}/projects`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: JSON.stringify({ name: 'Audited in the browser' }),
    });
    const { id: projectId } = (await project.json()) as { id: string };

    const { page, foreign, problems } = await openDocs();
    await authorizeWithToken(page, token);
    const audit = await tryOperation(page, 'admin-listAuditEvents');
    expect(audit.status).toBe('200');
    expect(audit.body).toContain('"action": "project.create"');
    expect(audit.body).toContain(projectId);
    const activity = await tryOperation(page, 'projects-listProjectActivity', { id: projectId });
    expect(activity.status).toBe('200');
    expect(activity.body).toContain('project.create');
    expect(activity.body).toContain('Audited in the browser');
    await activity.operation.scrollIntoViewIfNeeded();
    await screenshot(page, 'docs-activity.png');
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('recovers a password from the page: forgot, the message wrangler dev recorded, reset', async () => {
    const user = await signUp('docs-reset');
    const { page, foreign, problems } = await openDocs();
    const forgot = await tryOperation(page, 'auth-forgotPassword', {}, { email: user.email });
    expect(forgot.status).toBe('202');
    // The message went through the send_email binding after the response: wrangler dev says so in its output.
    const db = postgres(database.url('aegisflow'), { onnotice: () => {} });
    let message: { text_body: string; sent_at: Date | null } | undefined;
    for (let tries = 0; tries < 100 && !message?.sent_at; tries++) {
      [message] = await db<{ text_body: string; sent_at: Date | null }[]>`
        select text_body, sent_at from mail_outbox where recipient = ${user.email} and kind = 'password_reset'`;
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    await db.end();
    expect(message?.sent_at).toBeTruthy();
    expect(serverOutput).toContain('Reset your AegisFlow password');
    const token = /#token=([A-Za-z0-9_-]{43})/.exec(message!.text_body)![1]!;
    expect(serverOutput).not.toContain(token.slice(0, 20));
    const reset = await tryOperation(page, 'auth-resetPassword', {}, { token, new_password: 'reset in the browser' });
    expect(reset.status).toBe('204');
    await reset.operation.scrollIntoViewIfNeeded();
    await screenshot(page, 'docs-password-reset.png');
    const login = await fetch(`${origin}/auth/login`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ email: user.email, password: 'reset in the browser' }),
    });
    expect(login.status).toBe(200);
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });

  it('opens an operation from its deep link', async () => {
    const { page, foreign, problems } = await openDocs('#/projects/listProjects');
    await page.locator('#operations-projects-listProjects.is-open').waitFor();
    await screenshot(page, 'docs-deep-link.png');
    expect(foreign).toEqual([]);
    expect(problems).toEqual([]);
    await page.close();
  });
});
