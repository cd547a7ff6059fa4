import type { Article } from "./siteConfig.js";

const escape = (text: string): string =>
  text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c] ?? c);

const STYLE = `
  body { margin: 0; font: 17px/1.6 Georgia, "Times New Roman", serif; color: #1d232b; background: #f6f4ef; }
  header.site { background: #16324f; color: #fff; padding: 14px 24px; font: 600 20px/1.2 system-ui, sans-serif; }
  header.site a { color: inherit; text-decoration: none; }
  main { max-width: 760px; margin: 0 auto; padding: 24px; background: #fff; min-height: 100vh; }
  h1 { font-size: 32px; line-height: 1.2; margin: 8px 0; }
  .byline { color: #5b6570; font: 14px system-ui, sans-serif; margin-bottom: 20px; }
  ul.articles { list-style: none; padding: 0; } ul.articles li { margin: 14px 0; }
  nav.more { margin-top: 28px; font: 14px system-ui, sans-serif; }
  section.about { background: #eef3f9; border-radius: 10px; padding: 4px 18px; margin: 12px 0 20px; font: 15px/1.5 system-ui, sans-serif; }
  section.about h2 { font-size: 18px; }
  twei-widget { margin-top: 32px; }
`;

function layout(siteName: string, title: string, body: string): string {
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>${escape(title)} · ${escape(siteName)}</title><link rel="icon" href="data:,">
<style>${STYLE}</style></head>
<body><header class="site"><a href="/">${escape(siteName)}</a></header><main>${body}</main></body></html>`;
}

/** The front page: the list of articles. */
export function indexPage(siteName: string, articles: readonly Article[], authorOf: (a: Article) => string): string {
  const items = articles
    .map(
      (a) =>
        `<li><a href="/articles/${escape(a.slug)}">${escape(a.title)}</a> <span class="byline">${escape(a.date)} · ${escape(authorOf(a))}</span></li>`,
    )
    .join("");
  const about = `<section class="about" aria-label="About Twei on ${escape(siteName)}"><h2>Read, comment, earn Twei</h2>
<p>Every article here carries Twei, a reward token on a public blockchain. Sign in with your wallet under an article
and you earn Twei for reading it to the end, and when readers plus your posts or like your comments. Minuses,
dislikes, comments and reports cost a little Twei. Every payment is recorded on a public ledger that anyone can check.</p></section>`;
  return layout(siteName, "Front page", `<h1>Latest</h1>${about}<ul class="articles">${items}</ul>`);
}

/**
 * An article with the Twei widget under it: the two lines a site adds are the element and the
 * script tag (see the README).
 */
export function articlePage(siteName: string, article: Article, author: string, others: readonly Article[]): string {
  const paragraphs = article.text
    .split(/\n\s*\n/)
    .map((p) => `<p>${escape(p.replace(/\s+/g, " ").trim())}</p>`)
    .join("");
  const more = others.map((a) => `<a href="/articles/${escape(a.slug)}">${escape(a.title)}</a>`).join(" · ");
  return layout(
    siteName,
    article.title,
    `<article><h1>${escape(article.title)}</h1><div class="byline">${escape(article.date)} · by ${escape(author)}</div>${paragraphs}</article>
<twei-widget post="${escape(article.slug)}" api="/twei/api"></twei-widget>
<script type="module" src="/twei/twei-widget.js"></script>
<nav class="more">More: ${more}</nav>`,
  );
}
