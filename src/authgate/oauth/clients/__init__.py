"""Who the client is: client authentication (secrets, the guide's secret-only form, ``private_key_jwt``) and
dynamic registration and management (RFC 7591, RFC 7592)."""
