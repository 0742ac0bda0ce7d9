"""ProcessMaker's JSON API under /api/1.0: users, groups, permissions, tokens, clients, authorizations, the security log and its documentation."""
