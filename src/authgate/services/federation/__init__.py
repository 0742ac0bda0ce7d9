"""Signing in through upstream identity providers (issue 18): the providers, the protocol with them, and accounts."""
