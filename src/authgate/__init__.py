"""authgate: a self-hosted OAuth 2.0 / OpenID Connect authorization server.

Layers, each importing only the ones below it:
``web`` and ``cli`` (HTTP and command-line adapters) -> ``oauth`` (protocol rules, on Authlib)
-> ``services`` (what the product does: users, clients, tokens, keys, sessions)
-> ``storage`` (SQLAlchemy models, engine, Alembic migrations); ``settings`` and ``security``
are leaves any layer may use.
"""

__version__ = "0.1.0"
