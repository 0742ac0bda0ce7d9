// The provider's configuration, shared by the server and the seeding script. Every choice is
// explained in README.md beside this file.

import Provider from 'oidc-provider';

import { adapterFor, openDatabase } from './sqlite_adapter.js';

export const SCOPE_API = 'api:read';
export const SCOPE_USER = 'openid profile offline_access';

export function createProvider(state, databasePath) {
  const db = openDatabase(databasePath);
  const provider = new Provider(state.issuer, {
    adapter: adapterFor(db),
    clients: [{
      client_id: state.client_id,
      client_secret: state.client_secret,
      grant_types: ['authorization_code', 'refresh_token', 'client_credentials'],
      response_types: ['code'],
      redirect_uris: [state.redirect_uri],
      token_endpoint_auth_method: 'client_secret_basic',
      scope: `${SCOPE_USER} ${SCOPE_API}`,
    }],
    scopes: ['openid', 'profile', 'offline_access', SCOPE_API],
    claims: { openid: ['sub'], profile: ['name', 'preferred_username'] },
    jwks: { keys: [state.signing_key] },
    cookies: { keys: [state.cookie_key] },
    findAccount: (ctx, sub) => ({
      accountId: sub,
      claims: () => ({ sub, name: state.username, preferred_username: state.username }),
    }),
    features: {
      devInteractions: { enabled: false },
      clientCredentials: { enabled: true },
      introspection: { enabled: true, allowedPolicy: async (ctx, client, token) => token.clientId === client.clientId },
      revocation: { enabled: true },
    },
    rotateRefreshToken: true,
    ttl: {
      AccessToken: 3600,
      AuthorizationCode: 3600,
      ClientCredentials: 3600,
      Grant: 30 * 24 * 3600,
      IdToken: 3600,
      RefreshToken: 30 * 24 * 3600,
      Interaction: 600,
      Session: 24 * 3600,
    },
  });
  return { provider, db };
}
