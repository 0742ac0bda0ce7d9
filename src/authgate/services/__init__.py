"""Services: what authgate does (users, clients, tokens, keys, sessions), shared by every adapter.

Each service method takes the caller's SQLAlchemy session, so one HTTP request or CLI command is
one transaction however many services it touches.
"""
