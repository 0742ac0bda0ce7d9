"""The protocol core: OAuth 2.0 rules on top of Authlib, one module per grant or extension.

It knows nothing of HTTP frameworks: adapters hand it an ``OAuthRequest`` and get back
``(status, body, headers)``.
"""
