/**
 * Hyperdrive caches read-only query results by default (60 s, then 15 s stale). Every statement of this
 * API reads the caller's row with its data, so a cached answer could keep showing a project after an
 * update, or keep a deactivated user reading, for up to 75 s. The configuration must have caching
 * disabled; `npm run deploy` checks it before it deploys.
 */

/** The `[[hyperdrive]]` id in wrangler.toml's text; undefined while it is still the all-zero placeholder. */
export function hyperdriveIdFrom(wranglerToml: string): string | undefined {
  const block = /^\[\[hyperdrive\]\]\s*$([\s\S]*?)(?=^\[|(?![\s\S]))/m.exec(wranglerToml)?.[1] ?? '';
  const id = /^\s*id\s*=\s*"([^"]*)"/m.exec(block)?.[1];
  return id && !/^0+$/.test(id) ? id : undefined;
}

/** Why the configuration `wrangler hyperdrive get` printed is unsafe for this API, or undefined when it is not. */
export function hyperdriveCachingProblem(getOutput: string): string | undefined {
  let config: { caching?: { disabled?: boolean } };
  try {
    config = JSON.parse(getOutput.slice(getOutput.indexOf('{')));
  } catch {
    return 'could not read the Hyperdrive configuration from `wrangler hyperdrive get`';
  }
  if (config.caching?.disabled === true) return undefined;
  return 'Hyperdrive query caching is enabled: authenticated reads could be served stale for up to 75 s';
}
