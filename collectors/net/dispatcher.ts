import dns from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import tls from 'node:tls';
import ipaddr from 'ipaddr.js';
import { Agent, buildConnector } from 'undici';
import { applyConnectTo, type ConnectToRule } from '../../src/lib/server/config.ts';

/** A host we refuse to connect to (IP literal, or a name resolving to a non-public address). */
export class RefusedAddressError extends Error {
  readonly code = 'E_REFUSED_ADDRESS';
}

/** Public unicast only: loopback, private, link-local, CGNAT, multicast and the like are refused. */
export function isPublicAddress(address: string): boolean {
  if (!ipaddr.isValid(address)) return false;
  let addr = ipaddr.parse(address);
  if (addr.kind() === 'ipv6' && (addr as ipaddr.IPv6).isIPv4MappedAddress()) {
    addr = (addr as ipaddr.IPv6).toIPv4Address();
  }
  return addr.range() === 'unicast';
}

/** DNS lookup that fails when any answer is not a public address (so a name cannot smuggle us inside). */
const publicOnlyLookup: LookupFunction = (hostname, options, callback) => {
  dns.lookup(hostname, { ...options, all: true }, (err, addresses) => {
    if (err) return callback(err, '', 0);
    const list = addresses as dns.LookupAddress[];
    const bad = list.find((a) => !isPublicAddress(a.address));
    if (bad || list.length === 0) {
      return callback(
        new RefusedAddressError(`${hostname} resolves to ${bad?.address ?? 'nothing'}, not a public address`),
        '',
        0
      );
    }
    if (options.all) return (callback as unknown as (e: null, a: dns.LookupAddress[]) => void)(null, list);
    callback(null, list[0].address, list[0].family);
  });
};

export interface DispatcherOptions {
  connectTo: ConnectToRule[];
  /** The own server may live on loopback or a private network; peers may not. */
  allowPrivate: boolean;
  connectTimeoutMs?: number;
  headersTimeoutMs?: number;
  bodyTimeoutMs?: number;
  connections?: number;
}

/**
 * An Agent that can hand out short-lived siblings with the same settings and connector (so the same
 * address checks and TLS session cache). A crawl gives each host its own sibling and closes it when the
 * host is done: an Agent's keep-alive sockets would otherwise outlive the host by keepAliveTimeout, and at
 * hundreds of hosts a second that is over a thousand idle TLS connections (~200 MB of RSS in a crawl).
 */
export class ScopedAgent extends Agent {
  private readonly options: Agent.Options;
  constructor(options: Agent.Options) {
    super(options);
    this.options = options;
  }
  /** A fresh Agent for one unit of work; close it when the work is done. */
  scope(): Agent {
    return new Agent(this.options);
  }
}

/**
 * One undici Agent for a kind of traffic. Connect-to rules (curl's meaning) change where the socket
 * goes, never the name: TLS is still verified against the requested host name.
 */
export function createDispatcher(o: DispatcherOptions): ScopedAgent {
  const base = buildConnector({
    timeout: o.connectTimeoutMs ?? 10_000,
    // One SecureContext (default CAs, as tls.connect would build) for every connection: otherwise each
    // connection makes its own OpenSSL SSL_CTX, whose native memory lives until V8 happens to collect it.
    secureContext: tls.createSecureContext(),
    ...(o.allowPrivate ? {} : { lookup: publicOnlyLookup })
  });
  return new ScopedAgent({
    headersTimeout: o.headersTimeoutMs ?? 15_000,
    bodyTimeout: o.bodyTimeoutMs ?? 15_000,
    connections: o.connections ?? 4,
    keepAliveTimeout: 4_000,
    connect: (opts, callback) => {
      // IP literals are refused before any rule: a peer list naming an address is never followed.
      if (!o.allowPrivate && isIP(opts.hostname.replace(/^\[|\]$/g, ''))) {
        callback(
          new RefusedAddressError(`${opts.hostname} is an IP address; only host names are crawled`),
          null
        );
        return;
      }
      const defaultPort = opts.protocol === 'https:' ? 443 : 80;
      const port = opts.port ? Number(opts.port) : defaultPort;
      const target = applyConnectTo(o.connectTo, opts.hostname, port);
      if (target.mapped) {
        return base({ ...opts, hostname: target.host, port: String(target.port) }, callback);
      }
      return base(opts, callback);
    }
  });
}
