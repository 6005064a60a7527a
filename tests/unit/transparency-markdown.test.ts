import { describe, expect, it } from 'vitest';
import { renderMarkdown } from '../../src/lib/server/transparency/markdown.ts';

describe("the board's preface (a safe Markdown subset)", () => {
  it('renders paragraphs, emphasis, lists, headings and links', () => {
    const html = renderMarkdown(
      '# Quarter in review\n\nWe grew **steadily** and *calmly*.\nSee `docs`.\n\n- one\n- two\n\nRead [our minutes](https://coop.example/minutes).'
    );
    expect(html).toContain('<h3>Quarter in review</h3>');
    expect(html).toContain(
      '<p>We grew <strong>steadily</strong> and <em>calmly</em>.<br>See <code>docs</code>.</p>'
    );
    expect(html).toContain('<ul><li>one</li><li>two</li></ul>');
    expect(html).toContain(
      '<a href="https://coop.example/minutes" rel="nofollow noopener noreferrer">our minutes</a>'
    );
  });

  it('never lets HTML or script through', () => {
    const evil = [
      '<script>alert(1)</script>',
      '<img src=x onerror=alert(1)>',
      '[x](javascript:alert(1))',
      '[x](JAVASCRIPT:alert(1))',
      '[x](data:text/html;base64,PHNjcmlwdD4=)',
      '[x](https://ok.example/"onmouseover="alert(1))',
      '[<b>x</b>](https://ok.example)',
      '**<svg onload=alert(1)>**',
      '[x](//evil.example)'
    ].join('\n\n');
    const html = renderMarkdown(evil);
    expect(html).not.toMatch(/<script|<img|<svg|<b>|href="(javascript|data)|href="\/\//i);
    expect(html.match(/<a /g)).toHaveLength(1); // only the https link became a link
    expect(html).not.toMatch(/"onmouseover=/);
    expect(html).toContain('&lt;script&gt;');
  });
});
