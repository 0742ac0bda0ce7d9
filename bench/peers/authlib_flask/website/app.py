"""The Flask application factory, shaped like the example's ``website/app.py``. SQLite runs in WAL
mode with synchronous=NORMAL, as authgate configures it, so no server pays an fsync per commit
(PostgreSQL, for the --db postgres pass, keeps its server's settings)."""

from flask import Flask
from sqlalchemy import event

from .models import db
from .oauth2 import config_oauth
from .routes import bp


def create_app(config=None):
    app = Flask(__name__)
    app.config.from_object("website.settings")
    if config is not None:
        app.config.update(config)
    db.init_app(app)
    with app.app_context():
        if db.engine.dialect.name == "sqlite":
            event.listen(db.engine, "connect", _sqlite_pragmas)
    config_oauth(app)
    app.register_blueprint(bp, url_prefix="")
    return app


def _sqlite_pragmas(dbapi_connection, _record):
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()
