"""People and what they may do: users, groups, permissions (held and effective), who is acting (principals),
passwords' policy, and importing users."""
