// A persistent oidc-provider adapter on better-sqlite3: one table for every model, keyed by
// (model, id), with the grant, user-code and session-uid look-ups indexed. SQLite runs in WAL mode
// with synchronous=NORMAL, as authgate and the other peers configure it, so no server pays an fsync
// per commit; each statement is its own transaction (autocommit), as oidc-provider expects of an
// adapter. Statements are prepared once per process.

import Database from 'better-sqlite3';

const GRANTABLE = new Set([
  'AccessToken', 'AuthorizationCode', 'RefreshToken', 'DeviceCode', 'BackchannelAuthenticationRequest',
]);

export function openDatabase(path) {
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  db.pragma('synchronous = NORMAL');
  db.pragma('busy_timeout = 5000');
  db.exec(`
    CREATE TABLE IF NOT EXISTS oidc_models (
      model TEXT NOT NULL,
      id TEXT NOT NULL,
      payload TEXT NOT NULL,
      grant_id TEXT,
      user_code TEXT,
      uid TEXT,
      expires_at INTEGER,
      consumed_at INTEGER,
      PRIMARY KEY (model, id)
    ) WITHOUT ROWID;
    CREATE INDEX IF NOT EXISTS oidc_models_grant ON oidc_models (grant_id) WHERE grant_id IS NOT NULL;
    CREATE INDEX IF NOT EXISTS oidc_models_user_code ON oidc_models (user_code) WHERE user_code IS NOT NULL;
    CREATE INDEX IF NOT EXISTS oidc_models_uid ON oidc_models (uid) WHERE uid IS NOT NULL;
  `);
  return db;
}

const now = () => Math.floor(Date.now() / 1000);

function payloadOf(row) {
  if (!row) return undefined;
  const payload = JSON.parse(row.payload);
  if (row.consumed_at !== null) payload.consumed = row.consumed_at;
  return payload;
}

export function adapterFor(db) {
  const statements = {
    upsert: db.prepare(`INSERT INTO oidc_models (model, id, payload, grant_id, user_code, uid, expires_at)
      VALUES (@model, @id, @payload, @grantId, @userCode, @uid, @expiresAt)
      ON CONFLICT (model, id) DO UPDATE SET payload = excluded.payload, grant_id = excluded.grant_id,
        user_code = excluded.user_code, uid = excluded.uid, expires_at = excluded.expires_at`),
    find: db.prepare(`SELECT payload, consumed_at FROM oidc_models
      WHERE model = ? AND id = ? AND (expires_at IS NULL OR expires_at > ?)`),
    findByUserCode: db.prepare(`SELECT payload, consumed_at FROM oidc_models
      WHERE model = ? AND user_code = ? AND (expires_at IS NULL OR expires_at > ?)`),
    findByUid: db.prepare(`SELECT payload, consumed_at FROM oidc_models
      WHERE model = ? AND uid = ? AND (expires_at IS NULL OR expires_at > ?)`),
    consume: db.prepare('UPDATE oidc_models SET consumed_at = ? WHERE model = ? AND id = ?'),
    destroy: db.prepare('DELETE FROM oidc_models WHERE model = ? AND id = ?'),
    revokeByGrantId: db.prepare('DELETE FROM oidc_models WHERE grant_id = ?'),
  };

  return class SqliteAdapter {
    constructor(model) {
      this.model = model;
    }

    async upsert(id, payload, expiresIn) {
      statements.upsert.run({
        model: this.model,
        id,
        payload: JSON.stringify(payload),
        grantId: GRANTABLE.has(this.model) ? payload.grantId ?? null : null,
        userCode: payload.userCode ?? null,
        uid: payload.uid ?? null,
        expiresAt: expiresIn ? now() + expiresIn : null,
      });
    }

    async find(id) {
      return payloadOf(statements.find.get(this.model, id, now()));
    }

    async findByUserCode(userCode) {
      return payloadOf(statements.findByUserCode.get(this.model, userCode, now()));
    }

    async findByUid(uid) {
      return payloadOf(statements.findByUid.get(this.model, uid, now()));
    }

    async consume(id) {
      statements.consume.run(now(), this.model, id);
    }

    async destroy(id) {
      statements.destroy.run(this.model, id);
    }

    async revokeByGrantId(grantId) {
      statements.revokeByGrantId.run(grantId);
    }
  };
}
