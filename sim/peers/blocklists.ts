import { createHash } from 'node:crypto';
import { pick, weighted, type Rng } from '../random.ts';
import { FLOOD_ZONE } from './names.ts';

/**
 * Public domain-block lists (`GET /api/v1/instance/domain_blocks`, Mastodon ≥ 4.0 with
 * show_domain_blocks = all). Some peers limit the own server, by name or by obfuscated name + digest.
 */

export interface DomainBlockEntry {
  domain: string;
  digest: string;
  severity: 'silence' | 'suspend';
  comment?: string;
}

/** How one peer limits the own server, and from/until which simulated day. */
export interface OwnLimit {
  severity: 'silence' | 'suspend';
  obfuscated: boolean;
  comment?: string;
  fromDay: number;
  /** Day the block is lifted (exclusive); Infinity while it stands. */
  untilDay: number;
}

export const sha256 = (domain: string) => createHash('sha256').update(domain).digest('hex');

/** Mastodon's DomainBlock#public_domain: the middle starred out, dots kept. */
export function obfuscate(domain: string): string {
  const length = domain.length;
  const visible = Math.floor(length / 4);
  return [...domain].map((c, i) => (i > visible && i < length - visible && c !== '.' ? '*' : c)).join('');
}

/** Public reasons as moderators write them; one carries markup, to prove every page escapes it. */
export const PUBLIC_REASONS = [
  'Spam',
  'Harassment of our members, no moderation response',
  'Hate speech, unmoderated',
  'Fake-instance flood',
  'Third-party bots',
  'Posts unmarked explicit media',
  'Scraping without consent',
  'Ban evasion <script>alert(1)</script>',
  'See <a href="https://example.org/policy">our policy</a> & FAQ',
  'Federation partner asked to be silenced during migration'
];
export const SCRIPT_REASON = PUBLIC_REASONS[7];

/** Decides whether (and how) a listing peer limits the own server; ~3% of the public lists do. */
export function ownLimitFor(r: Rng): OwnLimit | undefined {
  if (r() >= 0.03) return undefined;
  const severity = r() < 0.6 ? 'silence' : 'suspend';
  const obfuscated = r() < 0.4;
  const commented = r() < 0.8;
  const fromDay = r() < 0.8 ? -Math.floor(r() * 400) : 1 + Math.floor(r() * 60);
  const untilDay = r() < 0.1 ? fromDay + 5 + Math.floor(r() * 90) : Infinity;
  return {
    severity,
    obfuscated,
    comment: commented ? pick(r, PUBLIC_REASONS) : undefined,
    fromDay,
    untilDay
  };
}

/** The whole public list of one peer as of `day`; `others` are candidate peer domains to name. */
export function domainBlocksFor(
  r: Rng,
  o: {
    ownDomain: string;
    limit?: OwnLimit;
    day: number;
    withComments: boolean;
    others: () => string[];
    /** Names in clear (Pleroma/Akkoma MRF lists have no obfuscation); the draws stay the same. */
    plain?: boolean;
  }
): DomainBlockEntry[] {
  const entries: DomainBlockEntry[] = [];
  const add = (domain: string, severity: 'silence' | 'suspend', obfuscated: boolean, comment?: string) => {
    entries.push({
      domain: obfuscated ? obfuscate(domain) : domain,
      digest: sha256(domain),
      severity,
      ...(o.withComments && comment !== undefined ? { comment } : {})
    });
  };
  const n = Math.floor(r() * 25);
  const others = o.others();
  for (let i = 0; i < n; i++) {
    const kind = weighted(r, [
      ['flood', 2],
      ['peer', 5],
      ['made_up', 3]
    ] as const);
    const domain =
      kind === 'flood'
        ? FLOOD_ZONE
        : kind === 'peer' && others.length > 0
          ? pick(r, others)
          : `${pick(r, ['freespeech', 'spamfarm', 'botsin', 'shitpost', 'replyguys'])}${Math.floor(r() * 100)}.invalid`;
    const severity = r() < 0.5 ? 'silence' : 'suspend';
    const obfuscated = r() < 0.2 && !o.plain;
    add(domain, severity, obfuscated, r() < 0.7 ? pick(r, PUBLIC_REASONS) : '');
  }
  const l = o.limit;
  if (l && o.day >= l.fromDay && o.day < l.untilDay)
    add(o.ownDomain, l.severity, l.obfuscated && !o.plain, l.comment);
  // Mastodon orders by severity (suspend first), then by domain.
  const rank = (e: DomainBlockEntry) => (e.severity === 'suspend' ? 0 : 1);
  return entries
    .filter((e, i) => entries.findIndex((x) => x.digest === e.digest) === i)
    .sort((a, b) => rank(a) - rank(b) || a.domain.localeCompare(b.domain));
}
