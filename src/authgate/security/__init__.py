"""Cryptographic helpers with no knowledge of storage or HTTP."""
