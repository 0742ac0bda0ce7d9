"""Route modules, one per surface: OAuth endpoints, sign-in pages, the JSON API."""
