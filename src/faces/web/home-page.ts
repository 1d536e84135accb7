/**
 * The sign-up / sign-in page served at `/`. Static: no user data is put into this HTML on
 * the server; the script fills names in with `textContent`, never `innerHTML`.
 */
export const homePage = (registrationEnabled: boolean): string => `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Parley</title>
<style>
  :root { color-scheme: light dark; --accent: #2563eb; --bg: #f8fafc; --card: #fff; --fg: #0f172a; --muted: #475569; --border: #cbd5e1; }
  @media (prefers-color-scheme: dark) { :root { --bg: #0b1120; --card: #111827; --fg: #e5e7eb; --muted: #9ca3af; --border: #374151; --accent: #60a5fa; } }
  * { box-sizing: border-box; }
  body { margin: 0; font: 16px/1.5 system-ui, sans-serif; background: var(--bg); color: var(--fg); }
  main { max-width: 44rem; margin: 3rem auto; padding: 0 1rem; }
  h1 { margin: 0 0 .25rem; font-size: 2rem; }
  p.lead { margin: 0 0 2rem; color: var(--muted); }
  .cards { display: grid; gap: 1rem; grid-template-columns: repeat(auto-fit, minmax(18rem, 1fr)); }
  section { background: var(--card); border: 1px solid var(--border); border-radius: .75rem; padding: 1.25rem; }
  h2 { margin: 0 0 1rem; font-size: 1.2rem; }
  label { display: block; margin-bottom: .75rem; font-weight: 500; }
  input { display: block; width: 100%; margin-top: .25rem; padding: .5rem .6rem; border: 1px solid var(--border); border-radius: .4rem; font: inherit; background: transparent; color: inherit; }
  button { padding: .55rem 1rem; border: 0; border-radius: .4rem; background: var(--accent); color: #fff; font: inherit; font-weight: 600; cursor: pointer; }
  button.secondary { background: transparent; color: var(--accent); border: 1px solid var(--accent); }
  :focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
  .error { color: #b91c1c; min-height: 1.5em; margin: .5rem 0 0; }
  @media (prefers-color-scheme: dark) { .error { color: #fca5a5; } }
  code { word-break: break-all; background: rgba(127,127,127,.15); padding: .1rem .3rem; border-radius: .25rem; }
  nav a { margin-right: 1rem; color: var(--accent); }
  [hidden] { display: none !important; }
</style>
</head>
<body>
<main>
  <h1>Parley</h1>
  <p class="lead">A real-time chat server. Sign up, then <a href="/messages/">open the chat</a>, try the <a href="/demo/">widgets</a>, or use the <a href="/api/docs/">API</a>.</p>

  <div id="signed-out" class="cards">
    ${
      registrationEnabled
        ? `<section aria-labelledby="signup-title">
      <h2 id="signup-title">Create an account</h2>
      <form id="signup" novalidate>
        <label>Username <input name="username" autocomplete="username" required maxlength="150"></label>
        <label>Display name <input name="display_name" autocomplete="name" maxlength="150"></label>
        <label>Email (optional) <input name="email" type="email" autocomplete="email"></label>
        <label>Password <input name="password" type="password" autocomplete="new-password" required minlength="8"></label>
        <button type="submit">Sign up</button>
        <p class="error" role="alert" aria-live="polite"></p>
      </form>
    </section>`
        : ''
    }
    <section aria-labelledby="signin-title">
      <h2 id="signin-title">Sign in</h2>
      <form id="signin" novalidate>
        <label>Username <input name="username" autocomplete="username" required></label>
        <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
        <button type="submit">Sign in</button>
        <p class="error" role="alert" aria-live="polite"></p>
      </form>
    </section>
  </div>

  <section id="signed-in" hidden aria-live="polite">
    <h2>Signed in as <span id="who"></span></h2>
    <p>Your API token (send it as <code>Authorization: Token …</code>):<br><code id="token"></code></p>
    <nav><a href="/messages/">Open the chat</a><a href="/demo/">Widget demo</a><a href="/api/docs/">API documentation</a></nav>
    <p><button type="button" class="secondary" id="logout">Sign out</button></p>
  </section>
</main>
<script>
(() => {
  const $ = (sel) => document.querySelector(sel);
  const show = (user, token) => {
    $('#signed-out').hidden = true;
    $('#signed-in').hidden = false;
    $('#who').textContent = user.display_name + ' (@' + user.username + ')';
    $('#token').textContent = token || 'hidden: sign in again to see a token';
  };
  const firstError = (body) => {
    if (!body) return 'Something went wrong.';
    if (body.detail) return body.detail;
    if (body.details) { const k = Object.keys(body.details)[0]; return k + ': ' + body.details[k][0]; }
    return body.error || 'Something went wrong.';
  };
  const bind = (id, url, fields) => {
    const form = document.getElementById(id);
    if (!form) return;
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const data = {};
      for (const f of fields) { const v = form.elements[f].value; if (v !== '' || f === 'username' || f === 'password') data[f] = v; }
      const err = form.querySelector('.error');
      err.textContent = '';
      try {
        const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(data) });
        const body = await res.json().catch(() => null);
        if (!res.ok) { err.textContent = firstError(body); return; }
        show(body.user, body.token);
      } catch (e) { err.textContent = 'Network error: ' + e.message; }
    });
  };
  bind('signup', '/auth/register', ['username', 'display_name', 'email', 'password']);
  bind('signin', '/auth/login', ['username', 'password']);
  $('#logout').addEventListener('click', async () => {
    await fetch('/auth/logout', { method: 'POST' });
    location.reload();
  });
  fetch('/auth/me').then((r) => (r.ok ? r.json() : null)).then((u) => { if (u) show(u, null); }).catch(() => {});
})();
</script>
</body>
</html>
`;
