"""The benchmark's protected resource and its seeding command."""
