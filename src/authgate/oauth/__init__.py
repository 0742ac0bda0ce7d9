"""The protocol core: OAuth 2.0 rules on top of Authlib, one module per grant or extension.

It knows nothing of HTTP frameworks: adapters hand it an ``OAuthRequest`` and get back
``(status, body, headers)``, or for the browser pages of the authorization endpoint and the device
flow an outcome to render (``decisions.py``, ``device_approval.py``).
"""
