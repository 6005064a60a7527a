import { isIP } from 'node:net';
import { domainToASCII } from 'node:url';

/**
 * Domain hygiene: peers lists carry junk (spaces, wildcards, IP:port, upper case, trailing dots, Unicode and
 * punycode spellings of one name). A domain is stored lowercase, ASCII (punycode), without port or trailing dot.
 */
export type DomainVerdict = { ok: true; domain: string } | { ok: false; reason: string };

const LABEL = /^(?!-)[a-z0-9-]{1,63}(?<!-)$/;

export function normalizeDomain(input: unknown): DomainVerdict {
  if (typeof input !== 'string') return { ok: false, reason: 'not a string' };
  let s = input.trim();
  if (s === '') return { ok: false, reason: 'empty' };
  if (/\s/.test(s)) return { ok: false, reason: 'contains white space' };
  if (s.includes('*')) return { ok: false, reason: 'wildcard or obfuscated name' };
  if (s.includes('/') || s.includes('@')) return { ok: false, reason: 'not a bare host name' };
  if (isIP(s) || isIP(s.replace(/^\[|\]$/g, ''))) return { ok: false, reason: 'IP address' };
  const port = /^(.*):(\d{1,5})$/.exec(s);
  if (port) {
    if (isIP(port[1]) || isIP(port[1].replace(/^\[|\]$/g, ''))) return { ok: false, reason: 'IP address' };
    s = port[1];
  }
  s = s.replace(/\.+$/, '');
  const ascii = domainToASCII(s.toLowerCase());
  if (!ascii) return { ok: false, reason: 'not a valid international domain name' };
  const labels = ascii.split('.');
  if (labels.length < 2) return { ok: false, reason: 'no dot: not a public host name' };
  if (ascii.length > 253 || !labels.every((l) => LABEL.test(l)))
    return { ok: false, reason: 'invalid host name' };
  if (/^\d+$/.test(labels.at(-1)!)) return { ok: false, reason: 'numeric top-level label' };
  return { ok: true, domain: ascii };
}

/** Normalises a list, dropping junk and duplicates (in any spelling), keeping the first-seen order. */
export function normalizeDomainList(entries: unknown[]): {
  domains: string[];
  rejected: number;
  duplicates: number;
} {
  const seen = new Set<string>();
  const domains: string[] = [];
  let rejected = 0;
  let duplicates = 0;
  for (const e of entries) {
    const v = normalizeDomain(e);
    if (!v.ok) rejected++;
    else if (seen.has(v.domain)) duplicates++;
    else {
      seen.add(v.domain);
      domains.push(v.domain);
    }
  }
  return { domains, rejected, duplicates };
}
