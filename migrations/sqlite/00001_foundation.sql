-- +goose Up
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE admin_roles (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at  DATETIME NOT NULL,
    updated_at  DATETIME NOT NULL
);

INSERT INTO admin_roles (id, code, name, description, permissions, created_at, updated_at) VALUES
    (1, 'strapi-super-admin', 'Super Admin', 'Super Admins can access and manage all features and settings.', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    (2, 'strapi-editor', 'Editor', 'Editors can manage and publish contents including those of other users.', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP),
    (3, 'strapi-author', 'Author', 'Authors can manage the content they have created.', '[]', CURRENT_TIMESTAMP, CURRENT_TIMESTAMP);

CREATE TABLE admin_users (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    firstname     TEXT NOT NULL DEFAULT '',
    lastname      TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role_id       INTEGER NOT NULL REFERENCES admin_roles (id),
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    DATETIME NOT NULL,
    updated_at    DATETIME NOT NULL
);

CREATE TABLE api_tokens (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    name            TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL,
    access_key_hash TEXT NOT NULL UNIQUE,
    permissions     TEXT NOT NULL DEFAULT '[]',
    lifespan        BIGINT,
    expires_at      DATETIME,
    last_used_at    DATETIME,
    created_at      DATETIME NOT NULL,
    updated_at      DATETIME NOT NULL
);

CREATE TABLE content_types (
    uid        TEXT PRIMARY KEY,
    schema     TEXT NOT NULL,
    created_at DATETIME NOT NULL,
    updated_at DATETIME NOT NULL
);

CREATE TABLE entries (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    document_id  TEXT NOT NULL,
    content_type TEXT NOT NULL,
    published_at DATETIME,
    data         TEXT NOT NULL,
    created_at   DATETIME NOT NULL,
    updated_at   DATETIME NOT NULL,
    created_by   BIGINT,
    updated_by   BIGINT
);

CREATE UNIQUE INDEX entries_document_state ON entries (document_id, (published_at IS NULL));
CREATE INDEX entries_type_state ON entries (content_type, (published_at IS NULL), id);

-- +goose Down
DROP TABLE entries;
DROP TABLE content_types;
DROP TABLE api_tokens;
DROP TABLE admin_users;
DROP TABLE admin_roles;
DROP TABLE settings;
