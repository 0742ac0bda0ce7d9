"""The protocol core: OAuth 2.0 rules on top of Authlib, one module per grant or extension.

It knows nothing of HTTP frameworks: adapters hand it an ``OAuthRequest`` and get back
``(status, body, headers)``, or for the browser pages of the authorization endpoint and the device
flow an outcome to render (``authorization/decisions.py``, ``authorization/device_approval.py``).
By concern: ``grants/`` (one module per grant, the registry), ``authorization/`` (the authorization
endpoint's requests: decisions, PAR, request objects), ``clients/`` (client authentication and
registration), ``endpoints/`` (introspection, revocation, device, UserInfo, logout, metadata); at the
top the server, the neutral request, token issuing and the rules several endpoints apply (DPoP,
resources, the FAPI profile).
"""
