// node-oidc-provider configured like the demo, for benchmarks/load.py's side-by-side figures.
//
//   PORT=8123 ACCESS_TOKEN_FORMAT=jwt node benchmarks/node/server.mjs
//
// The same client (demo-client / demo-secret, client_secret_basic, the demo's redirect URI), the
// same introspection client (payments-api / payments-api-secret), PAR, PKCE, Rich Authorization
// Requests with the `money_transfer` type validated against the JSON Schema of fixtures/demo.json
// (Ajv, Draft 2020-12), access tokens for the resource `urn:demo:payments` as JWT (RS256, RSA 2048,
// typ at+jwt) or opaque (ACCESS_TOKEN_FORMAT), rotated refresh tokens, the endpoints on the demo's
// paths. Lifetimes as the demo: code 60 s, pushed request 60 s, access token 600 s.
//
// It does less work than rar_provider, on purpose and documented in docs/performance.md:
// - storage is oidc-provider's in-memory adapter (no database);
// - the interaction is a shortcut: GET /interaction/:uid logs in the fixed account `alice` and
//   approves whatever was asked, without rendering a page, CSRF, a form post or a session store
//   (our front channel renders the consent page and takes a signed, CSRF-protected decision);
// - no per-client rate limits, lockouts, metrics or protocol-event logs.
import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';

import Ajv2020 from 'ajv/dist/2020.js';
import { Provider, errors } from 'oidc-provider';

const PORT = Number(process.env.PORT || 8123);
const ISSUER = `http://127.0.0.1:${PORT}`;
const FORMAT = process.env.ACCESS_TOKEN_FORMAT || 'jwt';
const REDIRECT_URI = 'http://127.0.0.1:8000/demo/callback/';
const API = 'urn:demo:payments';
const ACCOUNT = '1'; // alice's subject in the demo (her pk)

const fixtures = JSON.parse(readFileSync(new URL('../../fixtures/demo.json', import.meta.url)));
const moneyTransfer = fixtures.find(
  (row) => row.model === 'rar_provider.authorizationdetailtype' && row.fields.type === 'money_transfer',
).fields.json_schema;
const ajv = new Ajv2020({ allErrors: false, strict: false });
const validMoneyTransfer = ajv.compile(moneyTransfer);

const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
const signingKey = { ...privateKey.export({ format: 'jwk' }), kid: 'bench', use: 'sig', alg: 'RS256' };

const configuration = {
  clients: [
    {
      client_id: 'demo-client',
      client_secret: 'demo-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      redirect_uris: [REDIRECT_URI],
      authorization_details_types: ['money_transfer'],
    },
    {
      client_id: 'payments-api',
      client_secret: 'payments-api-secret',
      token_endpoint_auth_method: 'client_secret_basic',
      grant_types: [],
      response_types: [],
      redirect_uris: [],
    },
  ],
  jwks: { keys: [signingKey] },
  cookies: { keys: ['bench-only-cookie-key-0123456789'] },
  findAccount: async (ctx, sub) => ({ accountId: sub, claims: async () => ({ sub }) }),
  interactions: { url: (ctx, interaction) => `/interaction/${interaction.uid}` },
  routes: {
    authorization: '/oauth/authorize',
    pushed_authorization_request: '/oauth/par',
    token: '/oauth/token',
    introspection: '/oauth/introspect',
    revocation: '/oauth/revoke',
    jwks: '/oauth/jwks',
  },
  scopes: ['openid', 'profile'],
  pkce: { required: () => true },
  issueRefreshToken: async (ctx, client) => client.grantTypeAllowed('refresh_token'),
  rotateRefreshToken: true,
  ttl: {
    AccessToken: 600,
    AuthorizationCode: 60,
    PushedAuthorizationRequest: 60,
    RefreshToken: 14 * 24 * 3600,
    Grant: 14 * 24 * 3600,
    Interaction: 600,
    Session: 14 * 24 * 3600,
  },
  features: {
    devInteractions: { enabled: false },
    pushedAuthorizationRequests: { enabled: true },
    introspection: {
      enabled: true,
      // As ours (RFC 7662 §4): the token's own client, or the API's resource server client.
      allowedPolicy: async (ctx, client, token) =>
        client.clientId === token.clientId || (client.clientId === 'payments-api' && token.kind === 'AccessToken'),
    },
    resourceIndicators: {
      enabled: true,
      defaultResource: async () => API,
      useGrantedResource: async () => true,
      getResourceServerInfo: async (ctx, resource) => {
        if (resource !== API) throw new errors.InvalidTarget();
        return {
          scope: 'profile',
          audience: API,
          accessTokenTTL: 600,
          accessTokenFormat: FORMAT,
          jwt: { sign: { alg: 'RS256' } },
        };
      },
    },
    richAuthorizationRequests: {
      enabled: true,
      types: {
        money_transfer: {
          validate(ctx, detail) {
            if (!validMoneyTransfer(detail)) {
              const [first] = validMoneyTransfer.errors;
              throw new errors.InvalidAuthorizationDetails(`money_transfer ${first.instancePath} ${first.message}`);
            }
          },
        },
      },
      authorizationDetailsForGrantSource: async (ctx) => ctx.oidc.grant.rar,
      authorizationDetailsForAccessToken: async (ctx, token, source) => source?.rar,
      authorizationDetailsForIntrospection: async (ctx, token) => token.rar,
    },
  },
};

const provider = new Provider(ISSUER, configuration);

// The interaction shortcut: log in `alice`, approve what was asked (as devInteractions' consent
// submit does), and go back to the authorization endpoint. No page, no form.
provider.use(async (ctx, next) => {
  if (ctx.method !== 'GET' || !ctx.path.startsWith('/interaction/')) {
    await next();
    return;
  }
  const { prompt, params, session, grantId } = await provider.interactionDetails(ctx.req, ctx.res);
  let result;
  if (prompt.name === 'login') {
    result = { login: { accountId: ACCOUNT } };
  } else {
    const grant = grantId
      ? await provider.Grant.find(grantId)
      : new provider.Grant({ accountId: session.accountId, clientId: params.client_id });
    const { details } = prompt;
    if (details.missingOIDCScope) grant.addOIDCScope(details.missingOIDCScope.join(' '));
    if (details.missingResourceScopes) {
      for (const [indicator, scope] of Object.entries(details.missingResourceScopes)) {
        grant.addResourceScope(indicator, scope.join(' '));
      }
    }
    for (const detail of details.rar || []) grant.addRar(detail);
    result = { consent: { grantId: await grant.save() } };
  }
  const location = await provider.interactionResult(ctx.req, ctx.res, result, {
    mergeWithLastSubmission: prompt.name !== 'login',
  });
  ctx.status = 303;
  ctx.redirect(location);
});

provider.use(async (ctx, next) => {
  if (ctx.path === '/healthz') {
    ctx.body = 'ok';
    return;
  }
  await next();
});

provider.listen(PORT, '127.0.0.1', () => {
  process.stdout.write(`node-oidc-provider ${FORMAT} access tokens on ${ISSUER}\n`);
});
