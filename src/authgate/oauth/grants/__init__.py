"""One module per grant type (RFC 6749 §4, §6), each a thin subclass of Authlib's grant."""
