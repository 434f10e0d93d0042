/**
 * The client's address, as far as it can be trusted. Cloudflare's edge sets `CF-Connecting-IP` itself
 * (replacing whatever the client sent) and attaches `request.cf` to every request it forwards; anywhere
 * else (plain workerd, a proxy) the header is whatever the client wrote. So the header counts only beside
 * `request.cf`, and never under `wrangler dev` (APP_ENV=development), whose local runtime attaches a
 * stand-in `request.cf` and sets the header only when the client did not. Otherwise the address is the
 * fixed marker UNVERIFIED_ADDRESS, which is what sessions and the audit trail then record, and in production
 * such a request is refused by the routes that limit per address (middleware/rate-limit.ts), rather than
 * letting every such client share one bucket.
 */
export const UNVERIFIED_ADDRESS = 'unverified';

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;

export function clientAddress(request: Request, appEnv: 'development' | 'test' | 'production'): string {
  const header = request.headers.get('CF-Connecting-IP')?.trim();
  const fromEdge = (request as Request & { cf?: unknown }).cf !== undefined && appEnv !== 'development';
  if (!fromEdge || !header) return UNVERIFIED_ADDRESS;
  return isIpAddress(header) ? header.toLowerCase() : UNVERIFIED_ADDRESS;
}

function isIpAddress(value: string): boolean {
  const v4 = IPV4.exec(value);
  if (v4) return v4.slice(1).every((octet) => Number(octet) <= 255);
  return expandIpv6(value) !== undefined;
}

/** The eight 16-bit groups of an IPv6 address (an embedded IPv4 tail included), or undefined. */
function expandIpv6(value: string): number[] | undefined {
  if (value.length > 45 || !/^[0-9a-f:.]+$/i.test(value)) return undefined;
  let text = value;
  const tail = /:(\d{1,3}(?:\.\d{1,3}){3})$/.exec(text);
  if (tail) {
    const octets = tail[1]!.split('.').map(Number);
    if (octets.some((octet) => octet > 255)) return undefined;
    text = `${text.slice(0, tail.index)}:${((octets[0]! << 8) | octets[1]!).toString(16)}:${((octets[2]! << 8) | octets[3]!).toString(16)}`;
  }
  const halves = text.split('::');
  if (halves.length > 2) return undefined;
  const parse = (part: string) => (part === '' ? [] : part.split(':'));
  const head = parse(halves[0]!);
  const rest = halves.length === 2 ? parse(halves[1]!) : [];
  const missing = 8 - head.length - rest.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const groups = [...head, ...Array<string>(halves.length === 2 ? missing : 0).fill('0'), ...rest];
  if (groups.some((group) => !/^[0-9a-f]{1,4}$/i.test(group))) return undefined;
  return groups.map((group) => parseInt(group, 16));
}

/**
 * The network an address belongs to, as login throttling counts it: the /24 of an IPv4 address, the /64 of
 * an IPv6 one (what one subscriber is usually given), so an attacker cannot start afresh by moving to the
 * next address of their own network. The marker stays itself.
 */
export function networkOf(address: string): string {
  const v4 = IPV4.exec(address);
  if (v4) return `${v4[1]}.${v4[2]}.${v4[3]}.0/24`;
  const groups = expandIpv6(address);
  if (!groups) return address;
  // An IPv4-mapped address (::ffff:a.b.c.d) is the IPv4 client.
  if (groups.slice(0, 5).every((group) => group === 0) && groups[5] === 0xffff) {
    return `${groups[6]! >> 8}.${groups[6]! & 0xff}.${groups[7]! >> 8}.0/24`;
  }
  return `${groups
    .slice(0, 4)
    .map((group) => group.toString(16))
    .join(':')}::/64`;
}
