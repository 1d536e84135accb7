/**
 * The HTML shells of the web UI. Static: no user data is written into them; the bundles render
 * everything else with text bindings. Only the locale (one of a fixed list) and numeric ids
 * (validated by the route schema) are interpolated.
 */

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

const titles: Record<string, { messages: string; demo: string }> = {
  en: { messages: 'Messages', demo: 'Parley demo shop' },
  fr: { messages: 'Messages', demo: 'Boutique de démonstration Parley' },
  de: { messages: 'Nachrichten', demo: 'Parley-Demoshop' },
};

export const uiLocales = Object.keys(titles);

export const messagesPage = (lang: string): string => `<!doctype html>
<html lang="${esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(titles[lang]?.messages ?? 'Messages')} · Parley</title>
<style>html,body{margin:0;height:100%}body{background:#fff}@media (prefers-color-scheme:dark){body{background:#0b1120}}</style>
<script src="/static/parley-messages.js" defer></script>
</head>
<body>
<parley-messages-page></parley-messages-page>
</body>
</html>
`;

export const demoPage = (lang: string, sellerId: number): string => {
  const fr = lang === 'fr';
  const de = lang === 'de';
  const pick = (en: string, frText: string, deText: string) => esc(fr ? frText : de ? deText : en);
  return `<!doctype html>
<html lang="${esc(lang)}">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="color-scheme" content="light dark">
<title>${esc(titles[lang]?.demo ?? titles.en!.demo)}</title>
<style>
  :root { color-scheme: light dark; --bg: #f8fafc; --fg: #0f172a; --muted: #475569; --card: #fff; --border: #cbd5e1; }
  @media (prefers-color-scheme: dark) { :root { --bg: #0b1120; --fg: #e2e8f0; --muted: #a3b1c6; --card: #111827; --border: #475569; } }
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
  header, main { max-width: 68rem; margin: 0 auto; padding: 1rem; }
  header { display: flex; gap: 1rem; align-items: baseline; flex-wrap: wrap; }
  header a { color: inherit; }
  .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(22rem, 1fr)); gap: 1.5rem; }
  .card { background: var(--card); border: 1px solid var(--border); border-radius: .75rem; padding: 1rem 1.25rem; }
  .product { display: flex; gap: 1rem; align-items: center; }
  .thumb { width: 6rem; height: 6rem; border-radius: .5rem; background: linear-gradient(135deg, #1d4ed8, #7c3aed); flex: none; }
  .price { font-size: 1.4rem; font-weight: 700; }
  .muted { color: var(--muted); }
  h1 { font-size: 1.6rem; margin: 0; }
  h2 { font-size: 1.2rem; }
  parley-room, parley-dm { --parley-widget-height: 26rem; }
</style>
<script src="/static/parley-widgets.js" defer></script>
</head>
<body>
<header>
  <h1>${pick('Parley demo shop', 'Boutique de démonstration Parley', 'Parley-Demoshop')}</h1>
  <nav aria-label="${pick('Language', 'Langue', 'Sprache')}"><a href="?lang=en&amp;seller=${sellerId}" lang="en">English</a> · <a href="?lang=fr&amp;seller=${sellerId}" lang="fr">Français</a> · <a href="?lang=de&amp;seller=${sellerId}" lang="de">Deutsch</a> · <a href="/messages/">${pick('Messages', 'Messages', 'Nachrichten')}</a></nav>
</header>
<main class="grid">
  <section class="card" aria-labelledby="product-title">
    <div class="product">
      <div class="thumb" role="img" aria-label="${pick('Product photo', 'Photo du produit', 'Produktfoto')}"></div>
      <div>
        <h2 id="product-title">${pick('Trail running shoes', 'Chaussures de trail', 'Trailrunning-Schuhe')}</h2>
        <p class="price">€129</p>
        <p class="muted">${pick('Ask questions and talk with other buyers below.', 'Posez vos questions et discutez avec d’autres acheteurs ci-dessous.', 'Stellen Sie Fragen und sprechen Sie unten mit anderen Käufern.')}</p>
      </div>
    </div>
    <parley-room object="product:42" heading="${pick('Questions about this product', 'Questions sur ce produit', 'Fragen zu diesem Produkt')}"></parley-room>
  </section>
  <section class="card" aria-labelledby="seller-title">
    <h2 id="seller-title">${pick('Seller profile', 'Profil du vendeur', 'Verkäuferprofil')}</h2>
    <p class="muted">${pick('Send the seller a private message.', 'Envoyez un message privé au vendeur.', 'Schreiben Sie dem Verkäufer eine private Nachricht.')}</p>
    <parley-dm user-id="${sellerId}"></parley-dm>
  </section>
</main>
</body>
</html>
`;
};
