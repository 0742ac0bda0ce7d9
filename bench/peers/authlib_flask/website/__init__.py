"""A minimal copy of the structure of Authlib's example server (authlib/example-oauth2-server):
Flask + Flask-SQLAlchemy, Authlib's SQLAlchemy mixins, the same grants and resource protector."""
