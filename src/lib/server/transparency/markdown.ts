/**
 * A deliberately small Markdown subset for the board's preface: paragraphs, line breaks, headings
 * (#, ##, ###, shown one level below the page's), lists (- or 1.), **bold**, *emphasis*, `code` and
 * [links](https://…). Everything is escaped first; no raw HTML gets through; links are http(s) or mailto
 * only and carry rel="nofollow noopener noreferrer".
 */
export function escapeHtml(s: string): string {
  return s.replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] as string
  );
}

function emphasis(escaped: string): string {
  return escaped
    .replace(/`([^`]+)`/g, '<code>$1</code>')
    .replace(/\*\*([^*]+)\*\*/g, '<strong>$1</strong>')
    .replace(/(^|[^*\w])\*([^*\s][^*]*?)\*(?!\w)/g, '$1<em>$2</em>')
    .replace(/(^|[^_\w])_([^_\s][^_]*?)_(?!\w)/g, '$1<em>$2</em>');
}

function safeHref(raw: string): string | null {
  try {
    const u = new URL(raw);
    if (u.protocol === 'https:' || u.protocol === 'http:' || u.protocol === 'mailto:') return u.href;
  } catch {
    /* relative or junk: a site path is allowed, nothing else */
  }
  if (/^\/(?![/\\])[^\s]*$/.test(raw)) return raw;
  return null;
}

/** Inline markup of one block of raw text. */
export function inline(raw: string): string {
  const link = /\[([^\]\n]+)\]\(([^()\s]+)\)/g;
  let out = '';
  let last = 0;
  for (const m of raw.matchAll(link)) {
    out += emphasis(escapeHtml(raw.slice(last, m.index)));
    const href = safeHref(m[2]);
    const text = emphasis(escapeHtml(m[1]));
    out += href ? `<a href="${escapeHtml(href)}" rel="nofollow noopener noreferrer">${text}</a>` : text;
    last = m.index + m[0].length;
  }
  return out + emphasis(escapeHtml(raw.slice(last)));
}

export function renderMarkdown(source: string): string {
  const blocks = source.replace(/\r\n?/g, '\n').split(/\n\s*\n/);
  const html: string[] = [];
  for (const block of blocks) {
    const lines = block.split('\n').filter((l) => l.trim() !== '');
    if (lines.length === 0) continue;
    const heading = /^(#{1,3})\s+(.*)$/.exec(lines[0]);
    if (heading && lines.length === 1) {
      const level = heading[1].length + 2; // the page already has h1 and h2
      html.push(`<h${level}>${inline(heading[2].trim())}</h${level}>`);
      continue;
    }
    if (lines.every((l) => /^\s*[-*]\s+/.test(l))) {
      html.push(`<ul>${lines.map((l) => `<li>${inline(l.replace(/^\s*[-*]\s+/, ''))}</li>`).join('')}</ul>`);
      continue;
    }
    if (lines.every((l) => /^\s*\d+[.)]\s+/.test(l))) {
      html.push(
        `<ol>${lines.map((l) => `<li>${inline(l.replace(/^\s*\d+[.)]\s+/, ''))}</li>`).join('')}</ol>`
      );
      continue;
    }
    html.push(`<p>${lines.map((l) => inline(l.trim())).join('<br>')}</p>`);
  }
  return html.join('\n');
}
