"""Second factors: TOTP with recovery codes, passkeys (WebAuthn), and the policy that says who must have one."""
