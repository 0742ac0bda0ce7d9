"""The protocol endpoints: authorize, token, revocation, introspection, device, discovery and userinfo."""
