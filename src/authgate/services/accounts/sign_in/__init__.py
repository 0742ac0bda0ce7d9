"""Signing in: the password check with its lockout, the second step (or enrolment) the policy asks for, passkey
sign-in, and what assurance (amr, acr) a sign-in carries."""
