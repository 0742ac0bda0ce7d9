"""Accounts, by concern: ``people/`` (users, groups and their permissions, who is acting, passwords' policy),
``sign_in/`` (the password check with its lockout, the second step, passkey sign-in, assurance), ``sessions/``
(browser sessions), ``factors/`` (TOTP, passkeys, the second-factor policy) and ``email_links/`` (reset,
verification, invitations)."""
