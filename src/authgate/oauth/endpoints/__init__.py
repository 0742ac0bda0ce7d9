"""The endpoints beside authorize and token: introspection, revocation, device authorization, UserInfo,
RP-initiated logout, and the metadata documents (RFC 8414, OIDC Discovery, RFC 9728)."""
