/** robots.txt as each software ships it, plus the variants admins write. */

const MASTODON = `# See http://www.robotstxt.org/robotstxt.html for documentation on how to use the robots.txt file

User-agent: *
Disallow: /media_proxy/
Disallow: /interact/
`;

const GOTOSOCIAL = `# GoToSocial robots.txt -- to edit, see internal/web/robots.go

# AI scrapers and the like.
User-agent: GPTBot
User-agent: CCBot
User-agent: ClaudeBot
Disallow: /

# Well-known.dev crawler. Indexes stuff under /.well-known.
User-agent: WellKnownBot
Disallow: /

# Rules for everything else.
User-agent: *
Crawl-delay: 500

# API endpoints.
Disallow: /api/

# Auth/Sign in endpoints.
Disallow: /auth/
Disallow: /oauth/
Disallow: /check_your_email
Disallow: /wait_for_approval
Disallow: /account_disabled
Disallow: /signup

# Fileserver/media.
Disallow: /fileserver/

# Fedi S2S API endpoints.
Disallow: /users/
Disallow: /emoji/

# Settings panels.
Disallow: /admin
Disallow: /user
Disallow: /settings/

# Domain blocklist.
Disallow: /about/suspended

# Webfinger endpoint.
Disallow: /.well-known/webfinger
`;

// instance-stats-mode "" (the default) asks crawlers to leave the stats alone.
const GOTOSOCIAL_NODEINFO = `
# Disallow nodeinfo
Disallow: /.well-known/nodeinfo
Disallow: /nodeinfo/
`;

const WORDPRESS = `User-agent: *
Disallow: /wp-admin/
Allow: /wp-admin/admin-ajax.php
`;

const ALLOW_ALL = `User-agent: *
Disallow:
`;

export type RobotsKind = 'mastodon' | 'gotosocial' | 'misskey' | 'pleroma' | 'wordpress' | 'allow';

export function robotsFor(kind: RobotsKind, o: { disallowNodeInfo?: boolean } = {}): string {
  switch (kind) {
    case 'mastodon':
      return MASTODON;
    case 'gotosocial':
      return GOTOSOCIAL + (o.disallowNodeInfo ? GOTOSOCIAL_NODEINFO : '');
    case 'wordpress':
      return WORDPRESS;
    case 'misskey':
      return `User-agent: *\nAllow: /\n`;
    default:
      return ALLOW_ALL;
  }
}

/** Admins who want no crawlers at all, or none of ours. */
export const ROBOTS_DISALLOW_ALL = `User-agent: *\nDisallow: /\n`;
export const ROBOTS_DISALLOW_FEDIPULSE = `${MASTODON}\nUser-agent: fedipulse\nDisallow: /\n`;
