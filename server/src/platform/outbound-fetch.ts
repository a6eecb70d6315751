/**
 * The fetch every outbound client uses (webhooks, ServiceNow, enrichment providers; later the SIEM export). It
 * enforces outbound-url.ts's address policy on the connection itself: a name is resolved once, by the connection's
 * own lookup, and refused if any address it resolves to is not allowed, so the address checked is the address
 * connected to and DNS rebinding between a check and the connection is not possible. An IP literal (including one
 * a redirect points at) is checked by the connector before it dials. Redirects are never followed automatically.
 */
import { lookup as dnsLookup } from 'node:dns';
import { isIP, type LookupFunction } from 'node:net';
import { Agent, buildConnector, fetch as undiciFetch } from 'undici';
import { isAllowedAddress, type OutboundPolicy } from './outbound-url.js';

export type ResolvedAddress = { address: string; family: 4 | 6 };
/** Resolves a host name to every address it has (tests inject a fixed table instead of real DNS). */
export type Resolver = (hostname: string) => Promise<ResolvedAddress[]>;

/** A connection the outbound policy refused; never worth retrying, so clients report it as a configuration problem. */
export class OutboundAddressError extends Error {
  readonly code = 'ERR_OUTBOUND_ADDRESS_REFUSED';
  constructor(readonly host: string, readonly address: string) {
    super(`${host} resolves to ${address}, a private, loopback or reserved address this server does not connect to`);
    this.name = 'OutboundAddressError';
  }
}

/** The OutboundAddressError behind a failed fetch (fetch wraps it as the cause of a TypeError), if that is why. */
export function outboundRefusalOf(error: unknown): OutboundAddressError | null {
  for (let e: unknown = error, i = 0; e instanceof Error && i < 5; e = e.cause, i++) if (e instanceof OutboundAddressError) return e;
  return null;
}

const systemResolver: Resolver = (hostname) =>
  new Promise((resolve, reject) =>
    dnsLookup(hostname, { all: true, verbatim: true }, (error, addresses) => (error ? reject(error) : resolve(addresses as ResolvedAddress[]))),
  );

/** A net/tls `lookup` that resolves through `resolve` and refuses the whole name if any answer is not allowed. */
function guardedLookup(policy: OutboundPolicy, resolve: Resolver): LookupFunction {
  return (hostname, options, callback) => {
    resolve(hostname).then(
      (addresses) => {
        const refused = addresses.find((a) => !isAllowedAddress(a.address, policy));
        if (refused) return callback(new OutboundAddressError(hostname, refused.address), '', 0);
        if (addresses.length === 0) return callback(Object.assign(new Error(`${hostname} has no address`), { code: 'ENOTFOUND' }), '', 0);
        const wanted = options.family === 4 || options.family === 6 ? addresses.filter((a) => a.family === options.family) : addresses;
        const usable = wanted.length ? wanted : addresses;
        if (options.all) return (callback as unknown as (e: null, a: ResolvedAddress[]) => void)(null, usable);
        callback(null, usable[0]!.address, usable[0]!.family);
      },
      (error: Error) => callback(error as NodeJS.ErrnoException, '', 0),
    );
  };
}

export type OutboundHttp = { policy: OutboundPolicy; fetch: typeof fetch; close(): Promise<void> };

export function createOutboundHttp(options: { policy: OutboundPolicy; resolve?: Resolver }): OutboundHttp {
  const { policy } = options;
  const connect = buildConnector({ lookup: guardedLookup(policy, options.resolve ?? systemResolver) });
  const agent = new Agent({
    connect: (opts, callback) => {
      // An IP literal is dialled without a lookup: check it here.
      const host = opts.hostname.replace(/^\[(.*)\]$/, '$1');
      if (isIP(host) && !isAllowedAddress(host, policy)) return callback(new OutboundAddressError(host, host), null);
      return connect(opts, callback);
    },
  });
  const guardedFetch = ((input: Parameters<typeof fetch>[0], init?: RequestInit) =>
    undiciFetch(input as never, {
      ...(init as object),
      // A redirect is answered to the caller (manual) or refused (error), never followed to a host nobody configured.
      redirect: init?.redirect === 'manual' ? 'manual' : 'error',
      dispatcher: agent,
    } as never)) as unknown as typeof fetch;
  return { policy, fetch: guardedFetch, close: () => agent.close() };
}
