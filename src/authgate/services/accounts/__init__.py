"""Accounts: users, groups and their permissions, who is acting, passwords and their policy, sign-in with its lockout, browser sessions."""
