-- +goose Up
-- One row per administrator sign-in. The id is the JWT's jti; a token is
-- accepted only while its row exists, is not revoked and has not expired.
CREATE TABLE admin_sessions (
    id         TEXT PRIMARY KEY,
    user_id    INTEGER NOT NULL REFERENCES admin_users (id) ON DELETE CASCADE,
    created_at DATETIME NOT NULL,
    expires_at DATETIME NOT NULL,
    revoked_at DATETIME
);

CREATE INDEX admin_sessions_user ON admin_sessions (user_id);

-- +goose Down
DROP TABLE admin_sessions;
