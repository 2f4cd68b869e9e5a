import { lookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';

/**
 * Callback URLs must be http(s). Targets on loopback, private (RFC 1918), link-local
 * (cloud metadata at 169.254.169.254), CGNAT, unique-local IPv6 and unspecified addresses are
 * refused unless WEBHOOK_ALLOW_PRIVATE=true, so that a client cannot make the gateway call
 * into the hospital's or the cluster's internal network (SSRF). Checked when a study is
 * submitted and again, after DNS resolution, before every delivery.
 */
const PRIVATE = new BlockList();
for (const [net, prefix] of [
  ['0.0.0.0', 8],
  ['10.0.0.0', 8],
  ['100.64.0.0', 10],
  ['127.0.0.0', 8],
  ['169.254.0.0', 16],
  ['172.16.0.0', 12],
  ['192.168.0.0', 16],
  ['224.0.0.0', 4],
  ['240.0.0.0', 4],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv4');
for (const [net, prefix] of [
  ['::', 128],
  ['::1', 128],
  ['fc00::', 7],
  ['fe80::', 10],
  ['ff00::', 8],
] as const)
  PRIVATE.addSubnet(net, prefix, 'ipv6');

export function isPrivateAddress(address: string): boolean {
  const family = isIP(address);
  if (family === 0) return false;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(address);
  if (mapped) return PRIVATE.check(mapped[1], 'ipv4');
  return PRIVATE.check(address, family === 6 ? 'ipv6' : 'ipv4');
}

/** Returns a problem description, or null when the URL is acceptable. */
export function callbackUrlProblem(raw: string): string | null {
  let url: URL;
  try {
    url = new URL(raw);
  } catch {
    return 'callbackUrl is not a valid URL';
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') return 'callbackUrl must use http or https';
  if (url.username || url.password) return 'callbackUrl must not contain credentials';
  return null;
}

/** Rejects when the host resolves to a private address and those are not allowed. */
export async function assertAllowedTarget(raw: string, allowPrivate: boolean): Promise<void> {
  if (allowPrivate) return;
  const host = new URL(raw).hostname.replace(/^\[|\]$/g, '');
  const addresses = isIP(host) ? [host] : (await lookup(host, { all: true })).map((a) => a.address);
  const blocked = addresses.find(isPrivateAddress);
  if (blocked)
    throw new Error(
      `callback host ${host} resolves to a private address (${blocked}); set WEBHOOK_ALLOW_PRIVATE=true to allow it`,
    );
}
