// A real, certified OpenID provider (npm `oidc-provider`) for the single sign-on tests, on
// 127.0.0.1. scripts/test.sh installs the package (ensure_oidc_provider) and exports
// SPRECHSTUNDE_OIDC_PROVIDER_MODULES, the node_modules folder it lives in.
//
//   node tests/oidc/provider.mjs PORT CLIENT_ID CLIENT_SECRET KEY_PEM
//
// PORT may be 0; the provider prints `ready ISSUER` once it listens. The client is a web
// client whose redirect URIs are on 127.0.0.1: as a native client (RFC 8252, section 7.3) any
// port of the loopback address is accepted, so the server under test can bind port 0 as well.
// KEY_PEM is the RSA key the provider signs ID tokens with (kid "test-provider-key"); the tests
// sign tokens of their own with it (expired ones) and with another key (forged ones).
// Sign-in is the provider's built-in form (dev interactions): any password is accepted for the
// accounts below.

import { readFileSync } from 'node:fs';
import { createPrivateKey } from 'node:crypto';
import { createServer } from 'node:http';
import { createRequire } from 'node:module';
import { join } from 'node:path';

const [port, clientId, clientSecret, keyFile] = process.argv.slice(2);
const modules = process.env.SPRECHSTUNDE_OIDC_PROVIDER_MODULES;
if (!modules || !keyFile) {
  console.error('usage: SPRECHSTUNDE_OIDC_PROVIDER_MODULES=… node provider.mjs PORT CLIENT_ID CLIENT_SECRET KEY_PEM');
  process.exit(2);
}
const require = createRequire(join(modules, 'noop.js'));
const { default: Provider } = await import(require.resolve('oidc-provider'));

const accounts = {
  anna: { name: 'Anna Amtmann', email: 'anna@musterstadt.example', groups: ['/sprechstunde/buergerreferat'] },
  tom: { name: 'Tom Tiefbau', email: 'tom@musterstadt.example', groups: ['/sprechstunde/tiefbau', '/alle'] },
  olaf: { name: 'Olaf Ohnerolle', email: 'olaf@musterstadt.example', groups: ['/alle'] },
};

const jwk = createPrivateKey(readFileSync(keyFile, 'utf8')).export({ format: 'jwk' });
jwk.kid = 'test-provider-key';
jwk.use = 'sig';
jwk.alg = 'RS256';

const server = createServer();
await new Promise((resolve) => server.listen(Number(port), '127.0.0.1', resolve));
const issuer = `http://127.0.0.1:${server.address().port}`;

const provider = new Provider(issuer, {
  clients: [{
    client_id: clientId,
    client_secret: clientSecret,
    application_type: 'native',
    redirect_uris: ['http://127.0.0.1/staff/oidc/callback'],
    post_logout_redirect_uris: ['http://127.0.0.1/staff/'],
    grant_types: ['authorization_code'],
    response_types: ['code'],
    token_endpoint_auth_method: 'client_secret_basic',
  }],
  jwks: { keys: [jwk] },
  cookies: { keys: ['sprechstunde-test-cookie-key'] },
  claims: {
    openid: ['sub'],
    profile: ['name', 'preferred_username', 'groups'],
    email: ['email'],
  },
  features: {
    devInteractions: { enabled: true },
    rpInitiatedLogout: { enabled: true },
  },
  pkce: { required: () => true },
  async findAccount(ctx, id) {
    const account = accounts[id];
    if (!account) return undefined;
    return {
      accountId: id,
      async claims() {
        return { sub: id, preferred_username: id, ...account };
      },
    };
  },
});
provider.proxy = false;
server.on('request', provider.callback());
console.log(`ready ${issuer}`);
