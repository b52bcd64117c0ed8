// Local OpenID Connect provider for end-to-end tests (oidc-provider, plain http).
//
//   OIDC_CLIENT_ID=... OIDC_CLIENT_SECRET=... OIDC_REDIRECT_URI=... node provider.mjs
//
// Listens on 127.0.0.1 on a free port; the issuer is http://127.0.0.1:<port>.
// The first (and only) stdout line is the port number; all logs go to stderr.
// Any login is accepted (password ignored); a login containing '@' becomes the
// account's email (unverified when it contains "+unverified"), and "email|subject" gives the
// ID token that subject instead of the login. Exits on SIGTERM/SIGINT.
import http from 'node:http';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import Provider from 'oidc-provider';

// stdout carries the port and nothing else (the caller may stop reading it): oidc-provider's
// own notices (console.log/info) go to stderr.
console.log = console.info = (...args) => console.error(...args);

const env = (name) => {
  const v = process.env[name];
  if (!v) { console.error(`provider.mjs: ${name} must be set`); process.exit(2); }
  return v;
};
const client = {
  client_id: env('OIDC_CLIENT_ID'),
  client_secret: env('OIDC_CLIENT_SECRET'),
  redirect_uris: [env('OIDC_REDIRECT_URI')],
  response_types: ['code'],
  grant_types: ['authorization_code'],
  token_endpoint_auth_method: 'client_secret_basic', // one method per client
};

// Escape text for HTML.
const h = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);

// A tiny page: title + body, same shape as oidc-provider's devInteractions
// (inputs login/password, buttons "Sign-in" / "Continue") plus real <label>s.
const page = (title, body) => `<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8"><title>${h(title)}</title></head>
<body><h1>${h(title)}</h1>${body}</body></html>`;

const loginForm = (uid, hint) => page('Sign-in', `
<form autocomplete="off" action="/interaction/${h(uid)}" method="post">
  <input type="hidden" name="prompt" value="login"/>
  <label for="login">Login</label>
  <input required type="text" id="login" name="login" placeholder="Enter any login" value="${h(hint || '')}" autofocus>
  <label for="password">Password</label>
  <input type="password" id="password" name="password" placeholder="and password">
  <button type="submit">Sign-in</button>
</form>`);

const consentForm = (uid, clientId, scopes) => page('Authorize', `
<p>${h(clientId)} is requesting: ${h(scopes.join(' '))}</p>
<form autocomplete="off" action="/interaction/${h(uid)}" method="post">
  <input type="hidden" name="prompt" value="consent"/>
  <button type="submit" autofocus>Continue</button>
</form>
<p><a href="/interaction/${h(uid)}/abort">Cancel</a></p>`);

// Server first (port 0), because the issuer URL must contain the port.
const server = http.createServer();
await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
const { port } = server.address();
const issuer = `http://127.0.0.1:${port}`;

// A fresh RSA key per run, so no dev-only keys (RS256 id tokens).
const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const jwk = { ...privateKey.export({ format: 'jwk' }), kid: 'e2e', alg: 'RS256', use: 'sig' };

// Each subject's email, as of its last login ("email|subject" logins).
const emails = new Map();

const provider = new Provider(issuer, {
  clients: [client],
  jwks: { keys: [jwk] },
  // Cookies ignore ports, so on 127.0.0.1 the app under test shares this jar:
  // prefix the names so they can't clash with the app's own cookies.
  cookies: {
    keys: [randomBytes(32).toString('hex')],
    names: { session: 'oidc_session', interaction: 'oidc_interaction', resume: 'oidc_resume' },
  },
  // Any login name is an account; '@' logins carry an email. "email|subject" is a person whose
  // subject is not their email (the same person under a new email, or another person under
  // someone's email).
  // The account id is the subject; the email it has now is the one it last signed in with.
  findAccount: (ctx, sub) => {
    const email = emails.get(sub) ?? sub;
    return {
      accountId: sub,
      // A login with "+unverified" in it has an email the provider has not verified.
      claims: () => (email.includes('@') ? { sub, email, email_verified: !email.includes('+unverified') } : { sub }),
    };
  },
  claims: { openid: ['sub'], email: ['email', 'email_verified'] },
  scopes: ['openid', 'email'],
  conformIdTokenClaims: false, // put scope claims (email...) in the ID token too
  // oidc-provider only requires PKCE for public clients by default: force it.
  pkce: { required: () => true }, // S256 is the only method offered
  features: { devInteractions: { enabled: false } }, // own pages below
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
});
provider.on('server_error', (ctx, err) => console.error('server_error', err));

// Read an application/x-www-form-urlencoded body.
const readForm = async (req) => {
  let body = '';
  for await (const chunk of req) body += chunk;
  return new URLSearchParams(body);
};

// Interaction routes: GET shows login or consent, POST submits it, /abort denies.
provider.use(async (ctx, next) => {
  const m = ctx.path.match(/^\/interaction\/([^/]+)(\/abort)?$/);
  if (!m) return next();
  ctx.set('cache-control', 'no-store');
  const details = await provider.interactionDetails(ctx.req, ctx.res);
  const { uid, prompt, params, session, grantId } = details;
  if (m[2]) {
    return provider.interactionFinished(ctx.req, ctx.res,
      { error: 'access_denied', error_description: 'End-User aborted interaction' },
      { mergeWithLastSubmission: false });
  }
  if (ctx.method === 'GET') {
    ctx.type = 'html';
    if (prompt.name === 'login') ctx.body = loginForm(uid, params.login_hint);
    else if (prompt.name === 'consent') ctx.body = consentForm(uid, params.client_id, String(params.scope).split(' '));
    else ctx.throw(501, `prompt ${prompt.name} not implemented`);
    return undefined;
  }
  if (ctx.method !== 'POST') ctx.throw(405);
  const form = await readForm(ctx.req);
  if (form.get('prompt') !== prompt.name) ctx.throw(400, `expected prompt ${prompt.name}`);
  if (prompt.name === 'login') {
    const login = (form.get('login') || '').trim();
    if (!login) ctx.throw(400, 'login required');
    const [email, sub] = login.includes('|') ? login.split('|', 2) : [login, login];
    emails.set(sub, email);
    return provider.interactionFinished(ctx.req, ctx.res,
      { login: { accountId: sub } }, { mergeWithLastSubmission: false });
  }
  // Consent: grant whatever scopes/claims are still missing.
  const grant = grantId
    ? await provider.Grant.find(grantId)
    : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
  const d = prompt.details;
  if (d.missingOIDCScope) grant.addOIDCScope(d.missingOIDCScope.join(' '));
  if (d.missingOIDCClaims) grant.addOIDCClaims(d.missingOIDCClaims);
  for (const [res, scope] of Object.entries(d.missingResourceScopes || {})) {
    grant.addResourceScope(res, scope.join(' '));
  }
  return provider.interactionFinished(ctx.req, ctx.res,
    { consent: { grantId: await grant.save() } }, { mergeWithLastSubmission: true });
});

server.on('request', provider.callback());
process.stdout.write(`${port}\n`);
console.error(`oidc provider: issuer ${issuer}, client ${client.client_id} -> ${client.redirect_uris[0]}`);

const stop = () => { server.close(() => process.exit(0)); server.closeAllConnections(); };
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
