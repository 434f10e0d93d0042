/**
 * The per-credential quota is stated twice in wrangler.toml, because the Rate Limiting binding cannot be read
 * from the worker: the binding `CREDENTIAL_RATE_LIMIT` counts, and [vars] `API_RATE_LIMIT` /
 * `API_RATE_LIMIT_PERIOD` tell the `RateLimit` headers what it counts. They must agree.
 */
export function quotaProblem(wranglerToml: string): string | undefined {
  const binding =
    /\[\[ratelimits\]\]\s*name\s*=\s*"CREDENTIAL_RATE_LIMIT"[^[]*?simple\s*=\s*\{\s*limit\s*=\s*(\d+)\s*,\s*period\s*=\s*(\d+)\s*\}/.exec(
      wranglerToml,
    );
  if (!binding) return 'wrangler.toml declares no CREDENTIAL_RATE_LIMIT binding with a simple limit and period';
  const limit = /^API_RATE_LIMIT\s*=\s*"(\d+)"/m.exec(wranglerToml)?.[1] ?? '1200';
  const period = /^API_RATE_LIMIT_PERIOD\s*=\s*"(\d+)"/m.exec(wranglerToml)?.[1] ?? '60';
  if (binding[1] !== limit || binding[2] !== period) {
    return `the CREDENTIAL_RATE_LIMIT binding counts ${binding[1]} per ${binding[2]} s, but [vars] say ${limit} per ${period} s`;
  }
  return undefined;
}
