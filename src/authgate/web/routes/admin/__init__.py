"""The administration pages: users, groups, clients and the security log."""
