// Headless driver for provider.mjs (no browser): plain fetch + a cookie jar.
//
//   node drive.mjs <authorize_url> <login> [password]
//
// Follows the authorize URL through the login and consent pages, then prints
// the URL the provider redirects to on the client's redirect_uri (taken from
// the authorize URL) WITHOUT requesting it. Exit 0 if that URL carries a code,
// 3 if it carries an error (URL still printed), 1 on anything unexpected.
const [authorizeUrl, login, password = 'x'] = process.argv.slice(2);
if (!authorizeUrl || !login) {
  console.error('usage: node drive.mjs <authorize_url> <login> [password]');
  process.exit(2);
}
const redirectUri = new URL(authorizeUrl).searchParams.get('redirect_uri');
if (!redirectUri) fail('authorize URL has no redirect_uri');

function fail(msg) {
  console.error(`drive.mjs: ${msg}`);
  process.exit(1);
}

// Cookie jar: name+path -> value (single host, so the domain is ignored).
const jar = new Map();
function storeCookies(res) {
  for (const line of res.headers.getSetCookie()) {
    const [pair, ...attrs] = line.split(';').map((s) => s.trim());
    const eq = pair.indexOf('=');
    const name = pair.slice(0, eq);
    const value = pair.slice(eq + 1);
    let path = '/';
    let expired = false;
    for (const a of attrs) {
      const [k, v = ''] = a.split('=');
      if (k.toLowerCase() === 'path') path = v;
      if (k.toLowerCase() === 'max-age' && Number(v) <= 0) expired = true;
      if (k.toLowerCase() === 'expires' && Date.parse(v) < Date.now()) expired = true;
    }
    const key = `${name}\0${path}`;
    if (expired) jar.delete(key); else jar.set(key, { name, value, path });
  }
}
function cookieHeader(url) {
  const { pathname } = new URL(url);
  return [...jar.values()]
    .filter((c) => pathname === c.path || pathname.startsWith(c.path.endsWith('/') ? c.path : `${c.path}/`))
    .map((c) => `${c.name}=${c.value}`).join('; ');
}

// Minimal HTML helpers: attributes of a tag, entity decoding.
const decode = (s) => s.replace(/&(#x[0-9a-f]+|#\d+|amp|lt|gt|quot|apos);/gi, (_, e) => {
  const named = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" }[e.toLowerCase()];
  if (named) return named;
  return String.fromCodePoint(e[1].toLowerCase() === 'x' ? parseInt(e.slice(2), 16) : Number(e.slice(1)));
});
function attrs(tag) {
  const out = {};
  const re = /([^\s=<>/"']+)(?:\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>"']+)))?/g;
  for (const m of tag.replace(/^<\w+/, '').matchAll(re)) {
    out[m[1].toLowerCase()] = decode(m[2] ?? m[3] ?? m[4] ?? '');
  }
  return out;
}

// Find the first POST form on the page and fill it in.
function fillForm(html, pageUrl) {
  const form = [...html.matchAll(/<form\b[^>]*>([\s\S]*?)<\/form>/gi)]
    .find((m) => (attrs(m[0].match(/<form\b[^>]*>/i)[0]).method || '').toLowerCase() === 'post');
  if (!form) return null;
  const fa = attrs(form[0].match(/<form\b[^>]*>/i)[0]);
  const body = new URLSearchParams();
  let kind = 'consent';
  for (const [tag] of form[1].matchAll(/<input\b[^>]*>/gi)) {
    const a = attrs(tag);
    if (!a.name) continue;
    const type = (a.type || 'text').toLowerCase();
    if (a.name === 'login') { body.set('login', login); kind = 'login'; }
    else if (type === 'password') body.set(a.name, password);
    else if (['checkbox', 'radio'].includes(type) && !('checked' in a)) continue;
    else if (!['submit', 'button', 'image', 'reset'].includes(type)) body.set(a.name, a.value || '');
  }
  return { action: new URL(fa.action || pageUrl, pageUrl).href, body, kind };
}

let url = authorizeUrl;
let init = { method: 'GET' };
for (let hop = 0; hop < 30; hop += 1) {
  const headers = { cookie: cookieHeader(url), ...init.headers };
  const res = await fetch(url, { ...init, headers, redirect: 'manual' })
    .catch((e) => fail(`${init.method} ${url} failed: ${e.cause?.message || e.message}`));
  storeCookies(res);
  const where = `${init.method} ${url} -> ${res.status}`;
  if (res.status >= 300 && res.status < 400) {
    const next = new URL(res.headers.get('location') || fail(`${where} without Location`), url).href;
    if (next.startsWith(redirectUri)) {
      process.stdout.write(`${next}\n`);
      const q = new URL(next).searchParams;
      if (q.get('code')) process.exit(0);
      console.error(`drive.mjs: provider returned ${q.get('error') || 'no code'}: ${q.get('error_description') || ''}`);
      process.exit(3);
    }
    url = next;
    init = { method: 'GET' };
    continue;
  }
  const html = await res.text();
  const form = res.status === 200 ? fillForm(html, url) : null;
  if (!form) fail(`unexpected page: ${where}\n${html.replace(/<(style|script)\b[\s\S]*?<\/\1>/gi, '').replace(/<[^>]+>/g, ' ').replace(/\s+/g, ' ').slice(0, 600)}`);
  console.error(`drive.mjs: submitting ${form.kind} form to ${form.action}`);
  url = form.action;
  init = {
    method: 'POST',
    body: form.body.toString(),
    headers: { 'content-type': 'application/x-www-form-urlencoded' },
  };
}
fail('too many redirects/pages');
