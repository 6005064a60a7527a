/**
 * Every dashboard page, in nav order, with who may see it. The sign-in hook (hooks.server.ts, not yet
 * written) enforces `access`; config may make a staff page public. The layout renders the nav from this list.
 */
export interface PageMeta {
  key: 'overview' | 'growth' | 'retention' | 'federation' | 'moderation' | 'capacity' | 'finances' | 'status';
  path: string;
  title: string;
  /** One line: the question the page answers. */
  question: string;
  access: 'staff' | 'public';
}

export const PAGES: PageMeta[] = [
  { key: 'overview', path: '/', title: 'Overview', question: 'How is the server doing?', access: 'staff' },
  {
    key: 'growth',
    path: '/growth',
    title: 'Growth',
    question: 'Are we growing, and are members active?',
    access: 'staff'
  },
  {
    key: 'retention',
    path: '/retention',
    title: 'Retention',
    question: 'Do new members stay?',
    access: 'staff'
  },
  {
    key: 'federation',
    path: '/federation',
    title: 'Federation',
    question: 'Whom do we reach, and who limits us?',
    access: 'staff'
  },
  {
    key: 'moderation',
    path: '/moderation',
    title: 'Moderation',
    question: 'Is moderation keeping up?',
    access: 'staff'
  },
  {
    key: 'capacity',
    path: '/capacity',
    title: 'Capacity',
    question: 'When is the disk full, and what runs?',
    access: 'staff'
  },
  {
    key: 'finances',
    path: '/finances',
    title: 'Finances',
    question: 'Can we afford next year?',
    access: 'staff'
  },
  { key: 'status', path: '/status', title: 'Status', question: 'Did the collections work?', access: 'staff' }
];

/** A page's entry by key (pages look themselves up by name, never by position). */
export function pageMeta(key: PageMeta['key']): PageMeta {
  const page = PAGES.find((p) => p.key === key);
  if (!page) throw new Error(`no page ${key}`);
  return page;
}
