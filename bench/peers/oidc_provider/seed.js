// Seed the peer, in-process through oidc-provider's own models (no HTTP, no interaction pages):
//   node seed.js seed STATE_FILE DATABASE ISSUER   the client, keys and a user's access token -> STATE_FILE (JSON)
//   node seed.js codes STATE_FILE DATABASE COUNT OUTFILE     authorization codes (PKCE S256), one a line
//   node seed.js refresh STATE_FILE DATABASE COUNT OUTFILE   refresh tokens, one a line
// Every code and refresh token gets its own Grant, as a user's consent would make one.

import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { readFileSync, writeFileSync } from 'node:fs';

import { SCOPE_USER, createProvider } from './provider.js';

const REDIRECT_URI = 'http://127.0.0.1:9/cb';
const ACCOUNT = 'bench';
const random = (n) => randomBytes(n).toString('base64url');

async function grantFor(provider, client) {
  const grant = new provider.Grant({ accountId: ACCOUNT, clientId: client.clientId });
  grant.addOIDCScope(SCOPE_USER);
  return grant.save();
}

async function inTransaction(db, work) {
  db.exec('BEGIN');
  try {
    const out = await work();
    db.exec('COMMIT');
    return out;
  } catch (error) {
    db.exec('ROLLBACK');
    throw error;
  }
}

async function seed(stateFile, databasePath, issuer) {
  const { privateKey } = generateKeyPairSync('rsa', { modulusLength: 2048 });
  const state = {
    issuer,
    client_id: random(18),
    client_secret: random(36),
    redirect_uri: REDIRECT_URI,
    username: ACCOUNT,
    signing_key: { ...privateKey.export({ format: 'jwk' }), kid: random(8), use: 'sig', alg: 'RS256' },
    cookie_key: random(32),
  };
  const { provider } = createProvider(state, databasePath);
  const client = await provider.Client.find(state.client_id);
  const grantId = await grantFor(provider, client);
  const token = new provider.AccessToken({
    accountId: ACCOUNT, client, grantId, scope: 'openid profile', gty: 'authorization_code',
  });
  state.api_token = await token.save();
  writeFileSync(stateFile, JSON.stringify(state));
}

async function mint(kind, stateFile, databasePath, count, outfile, challenge) {
  const state = JSON.parse(readFileSync(stateFile, 'utf8'));
  const { provider, db } = createProvider(state, databasePath);
  const client = await provider.Client.find(state.client_id);
  const values = await inTransaction(db, async () => {
    const out = [];
    for (let i = 0; i < count; i += 1) {
      const grantId = await grantFor(provider, client);
      const common = { accountId: ACCOUNT, client, grantId, scope: SCOPE_USER, authTime: Math.floor(Date.now() / 1000) };
      const model = kind === 'codes'
        ? new provider.AuthorizationCode({
          ...common, redirectUri: state.redirect_uri, codeChallenge: challenge, codeChallengeMethod: 'S256',
        })
        : new provider.RefreshToken({ ...common, gty: 'authorization_code' });
      out.push(await model.save());
    }
    return out;
  });
  writeFileSync(outfile, values.map((v) => `${v}\n`).join(''));
}

const [command, ...args] = process.argv.slice(2);
if (command === 'seed') {
  await seed(...args);
} else {
  const [stateFile, databasePath, count, outfile, challenge] = args;
  await mint(command, stateFile, databasePath, Number(count), outfile, challenge);
}
