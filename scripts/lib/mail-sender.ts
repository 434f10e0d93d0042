/**
 * The sender wrangler.toml's [vars] give EMAIL_FROM. The committed one, on a `.localhost` domain, is for
 * `wrangler dev` and the tests, which only record mail; Cloudflare Email Sending sends only from a domain
 * onboarded to it, so every message of a deployment with it would fail and be given up a day later.
 */
export function senderProblem(wranglerToml: string): string | undefined {
  const sender = /^EMAIL_FROM\s*=\s*"([^"]*)"/m.exec(wranglerToml)?.[1]?.trim();
  if (!sender) return 'wrangler.toml [vars] sets no EMAIL_FROM';
  if (/@(?:[^>\s]+\.)?localhost>?$/i.test(sender)) return `EMAIL_FROM is still the local placeholder (${sender})`;
  return undefined;
}
