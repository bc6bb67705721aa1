// A small OAuth 2.1 authorization server and protected MCP endpoint for
// tests/unit/test_mcp_oauth_flow.c (plain node:http, no packages). It listens on 127.0.0.1 on the
// port given as the first argument (0: any) and prints "listening <port>". One origin plays both
// parts: the protected resource at /mcp and the authorization server at the root.
//
//   POST /mcp                                     200 {"ok":true} with a valid Bearer token, else
//                                                 401 + WWW-Authenticate (resource_metadata, scope)
//   GET  /.well-known/oauth-protected-resource/mcp  {resource, authorization_servers, scopes_supported}
//   GET  /.well-known/oauth-authorization-server    the metadata (see config)
//   POST /register                                 201 {client_id, client_secret?, token_endpoint_auth_method}
//   GET  /authorize                                302 to redirect_uri ?code&state[&iss]
//   POST /token                                    authorization_code (PKCE S256 checked),
//                                                  refresh_token, client_credentials, JWT-bearer;
//                                                  client authentication checked (secret, none,
//                                                  private_key_jwt ES256)
//   With config dpop: /mcp and /token want DPoP proofs (ES256, checked: signature, htm, htu, iat,
//   ath, the nonce when dpop_nonce is set, asked for with use_dpop_nonce), tokens are DPoP.
//   POST /admin/config   JSON merged into the config below; POST /admin/revoke: every access
//                        token becomes invalid; GET /admin/log: the requests seen (no secrets)
import http from 'node:http';
import crypto from 'node:crypto';

const config = {
  auth_methods: ['client_secret_post'], // token_endpoint_auth_methods_supported
  iss: 'correct',                        // correct | wrong | omit (in the redirect)
  iss_supported: true,
  resource: null,                        // PRM resource override (null: the server's /mcp)
  scopes_supported: ['mcp:read'],
  registration: true,
  expires_in: 3600,
  clients: { 'pre-client': 'pre-secret' }, // pre-registered client_id -> secret
  prm: true,                             // serve the protected-resource metadata
  as_metadata: true,                     // serve the authorization-server metadata
  jwt_client: null,                      // private_key_jwt: this client_id ...
  jwt_public_key: null,                  // ... whose assertions this PEM key verifies (ES256)
  valid_assertion: null,                 // the JWT-bearer grant's accepted assertion
  dpop: false,                           // DPoP (RFC 9449): proofs required, DPoP-bound tokens
  dpop_nonce: null,                      // ... and this nonce in them (asked for once)
};
const log = [];
const codes = new Map();   // code -> {challenge, client_id, scope, resource}
const tokens = new Set();  // valid access tokens
const refresh = new Map(); // refresh token -> scope
let n = 0;
let base = '';

function json(res, status, body, headers = {}) {
  res.writeHead(status, { 'Content-Type': 'application/json', ...headers });
  res.end(JSON.stringify(body));
}

function readBody(req) {
  return new Promise((resolve) => {
    const chunks = [];
    req.on('data', (c) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString()));
  });
}

// The client's identity at the token endpoint: {id, method} or {error}.
// A DPoP proof of a request: null when valid, else why not (RFC 9449 §4.3).
function dpopCheck(req, url, token) {
  const proof = req.headers.dpop;
  if (!proof || proof.includes(',')) return 'no proof';
  const [h64, p64, s64] = proof.split('.');
  let header, claims;
  try {
    header = JSON.parse(Buffer.from(h64, 'base64url').toString());
    claims = JSON.parse(Buffer.from(p64, 'base64url').toString());
  } catch { return 'not a JWT'; }
  if (header.typ !== 'dpop+jwt' || header.alg !== 'ES256' || !header.jwk || header.jwk.d) return 'bad header';
  const key = crypto.createPublicKey({ key: header.jwk, format: 'jwk' });
  if (!crypto.verify('sha256', Buffer.from(`${h64}.${p64}`), { key, dsaEncoding: 'ieee-p1363' },
    Buffer.from(s64 || '', 'base64url'))) return 'bad signature';
  if (claims.htm !== req.method || claims.htu !== `${base}${url.pathname}`) return 'bad htm or htu';
  if (Math.abs(Date.now() / 1000 - claims.iat) > 300 || typeof claims.jti !== 'string') return 'bad iat or jti';
  if (token && claims.ath !== crypto.createHash('sha256').update(token).digest('base64url')) return 'bad ath';
  if (config.dpop_nonce && claims.nonce !== config.dpop_nonce) return 'use_dpop_nonce';
  return null;
}

function clientAuth(req, form) {
  const h = req.headers.authorization;
  if (form.get('client_assertion_type') === 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer') {
    const [h64, p64, s64] = (form.get('client_assertion') || '').split('.');
    const ok = config.jwt_public_key && s64 && crypto.verify('sha256', Buffer.from(`${h64}.${p64}`),
      { key: config.jwt_public_key, dsaEncoding: 'ieee-p1363' }, Buffer.from(s64, 'base64url'));
    const claims = ok ? JSON.parse(Buffer.from(p64, 'base64url').toString()) : {};
    if (!ok || claims.iss !== config.jwt_client || claims.sub !== config.jwt_client || claims.aud !== base
        || !(claims.exp > Date.now() / 1000)) return { error: 'invalid_client' };
    return { id: claims.iss, method: 'private_key_jwt' };
  }
  if (h && h.startsWith('Basic ')) {
    const [id, secret] = Buffer.from(h.slice(6), 'base64').toString().split(':').map(decodeURIComponent);
    if (config.clients[id] !== secret) return { error: 'invalid_client' };
    return { id, method: 'client_secret_basic' };
  }
  const id = form.get('client_id');
  if (form.get('client_secret') !== null) {
    if (config.clients[id] !== form.get('client_secret')) return { error: 'invalid_client' };
    return { id, method: 'client_secret_post' };
  }
  if (!id || !(id in config.clients) || config.clients[id] !== null) return { error: 'invalid_client' };
  return { id, method: 'none' };
}

const server = http.createServer(async (req, res) => {
  const url = new URL(req.url, base);
  const body = await readBody(req);
  const entry = { method: req.method, path: url.pathname };
  log.push(entry);
  const prm = `${base}/.well-known/oauth-protected-resource/mcp`;

  if (url.pathname === '/admin/log') return json(res, 200, log.filter((e) => !e.path.startsWith('/admin')));
  if (url.pathname === '/admin/config') {
    Object.assign(config, JSON.parse(body || '{}'));
    return json(res, 200, config);
  }
  if (url.pathname === '/admin/revoke') {
    tokens.clear();
    return json(res, 200, {});
  }
  if (url.pathname === '/mcp' && config.dpop) {
    const h = req.headers.authorization || '';
    const token = h.startsWith('DPoP ') ? h.slice(5) : null;
    const why = token ? dpopCheck(req, url, token) : 'no token';
    entry.auth = !token ? 'none' : !tokens.has(token) ? 'invalid' : why ? `dpop: ${why}` : 'valid';
    if (why === 'use_dpop_nonce' && tokens.has(token))
      return json(res, 401, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': config.dpop_nonce,
        'WWW-Authenticate': `DPoP error="use_dpop_nonce", resource_metadata="${prm}"` });
    if (entry.auth !== 'valid')
      return json(res, 401, { error: 'invalid_token' }, { 'WWW-Authenticate': `DPoP resource_metadata="${prm}"` });
    return json(res, 200, { ok: true });
  }
  if (url.pathname === '/mcp') {
    const h = req.headers.authorization || '';
    entry.auth = h.startsWith('Bearer ') ? (tokens.has(h.slice(7)) ? 'valid' : 'invalid') : 'none';
    if (entry.auth !== 'valid')
      return json(res, 401, { error: 'invalid_token' },
        { 'WWW-Authenticate': `Bearer error="invalid_token", scope="mcp:read", resource_metadata="${prm}"` });
    return json(res, 200, { ok: true });
  }
  if (url.pathname.startsWith('/.well-known/') && !config[url.pathname.includes('protected') ? 'prm' : 'as_metadata'])
    return json(res, 404, { error: 'not_found' });
  if (url.pathname === '/.well-known/oauth-protected-resource/mcp')
    return json(res, 200, { resource: config.resource || `${base}/mcp`, authorization_servers: [base],
      scopes_supported: config.scopes_supported });
  if (url.pathname === '/.well-known/oauth-authorization-server')
    return json(res, 200, {
      issuer: base, authorization_endpoint: `${base}/authorize`, token_endpoint: `${base}/token`,
      ...(config.registration ? { registration_endpoint: `${base}/register` } : {}),
      response_types_supported: ['code'], grant_types_supported: ['authorization_code', 'refresh_token'],
      code_challenge_methods_supported: ['S256'], token_endpoint_auth_methods_supported: config.auth_methods,
      authorization_response_iss_parameter_supported: config.iss_supported,
      ...(config.dpop ? { dpop_signing_alg_values_supported: ['ES256'] } : {}),
    });
  if (url.pathname === '/register' && req.method === 'POST') {
    const meta = JSON.parse(body);
    const id = `client-${++n}`;
    const method = meta.token_endpoint_auth_method || 'client_secret_basic';
    const secret = method === 'none' ? null : `secret-${n}`;
    config.clients[id] = secret;
    entry.application_type = meta.application_type;
    entry.grant_types = meta.grant_types;
    return json(res, 201, { client_id: id, ...(secret ? { client_secret: secret } : {}),
      token_endpoint_auth_method: method, redirect_uris: meta.redirect_uris });
  }
  if (url.pathname === '/authorize') {
    const q = url.searchParams;
    entry.client_id = q.get('client_id');
    entry.scope = q.get('scope');
    entry.resource = q.get('resource');
    entry.code_challenge_method = q.get('code_challenge_method');
    const code = `code-${++n}`;
    codes.set(code, { challenge: q.get('code_challenge'), client_id: q.get('client_id'),
      scope: q.get('scope'), resource: q.get('resource') });
    const to = new URL(q.get('redirect_uri'));
    to.searchParams.set('code', code);
    if (q.get('state')) to.searchParams.set('state', q.get('state'));
    if (config.iss === 'correct') to.searchParams.set('iss', base);
    else if (config.iss === 'wrong') to.searchParams.set('iss', 'https://evil.example.com');
    res.writeHead(302, { Location: to.toString() });
    return res.end();
  }
  if (url.pathname === '/token' && req.method === 'POST') {
    const form = new URLSearchParams(body);
    const grant = form.get('grant_type');
    const who = clientAuth(req, form);
    entry.grant_type = grant;
    entry.client_auth = who.method || who.error;
    entry.resource = form.get('resource');
    if (who.error) return json(res, 401, { error: who.error });
    if (config.dpop) {
      entry.dpop = dpopCheck(req, url, null) || 'valid';
      if (entry.dpop === 'use_dpop_nonce')
        return json(res, 400, { error: 'use_dpop_nonce' }, { 'DPoP-Nonce': config.dpop_nonce });
      if (entry.dpop !== 'valid') return json(res, 400, { error: 'invalid_dpop_proof' });
    }
    let scope;
    if (grant === 'authorization_code') {
      const c = codes.get(form.get('code'));
      codes.delete(form.get('code'));
      const verifier = form.get('code_verifier') || '';
      entry.pkce = !!c && crypto.createHash('sha256').update(verifier).digest('base64url') === c.challenge;
      if (!c || !entry.pkce || c.client_id !== who.id) return json(res, 400, { error: 'invalid_grant' });
      scope = c.scope;
    } else if (grant === 'refresh_token') {
      scope = refresh.get(form.get('refresh_token'));
      if (scope === undefined) return json(res, 400, { error: 'invalid_grant' });
    } else if (grant === 'client_credentials') {
      scope = form.get('scope');
    } else if (grant === 'urn:ietf:params:oauth:grant-type:jwt-bearer') {
      if (!config.valid_assertion || form.get('assertion') !== config.valid_assertion)
        return json(res, 400, { error: 'invalid_grant' });
      scope = form.get('scope');
    } else {
      return json(res, 400, { error: 'unsupported_grant_type' });
    }
    const at = `at-${++n}-${crypto.randomBytes(8).toString('hex')}`;
    const rt = `rt-${n}-${crypto.randomBytes(8).toString('hex')}`;
    tokens.add(at);
    refresh.set(rt, scope);
    return json(res, 200, { access_token: at, token_type: config.dpop ? 'DPoP' : 'Bearer', expires_in: config.expires_in,
      refresh_token: rt, ...(scope ? { scope } : {}) }, { 'Cache-Control': 'no-store' });
  }
  json(res, 404, { error: 'not_found' });
});

server.listen(Number(process.argv[2] || 0), '127.0.0.1', () => {
  base = `http://127.0.0.1:${server.address().port}`;
  console.log(`listening ${server.address().port}`);
});
