-- +goose Up
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE admin_roles (
    id          BIGSERIAL PRIMARY KEY,
    code        TEXT NOT NULL UNIQUE,
    name        TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

INSERT INTO admin_roles (id, code, name, description, permissions, created_at, updated_at) VALUES
    (1, 'strapi-super-admin', 'Super Admin', 'Super Admins can access and manage all features and settings.', '[]', now(), now()),
    (2, 'strapi-editor', 'Editor', 'Editors can manage and publish contents including those of other users.', '[]', now(), now()),
    (3, 'strapi-author', 'Author', 'Authors can manage the content they have created.', '[]', now(), now());
SELECT setval(pg_get_serial_sequence('admin_roles', 'id'), 3);

CREATE TABLE admin_users (
    id            BIGSERIAL PRIMARY KEY,
    firstname     TEXT NOT NULL DEFAULT '',
    lastname      TEXT NOT NULL DEFAULT '',
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    role_id       BIGINT NOT NULL REFERENCES admin_roles (id),
    is_active     BOOLEAN NOT NULL DEFAULT TRUE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE TABLE api_tokens (
    id              BIGSERIAL PRIMARY KEY,
    name            TEXT NOT NULL UNIQUE,
    description     TEXT NOT NULL DEFAULT '',
    type            TEXT NOT NULL,
    access_key_hash TEXT NOT NULL UNIQUE,
    permissions     TEXT NOT NULL DEFAULT '[]',
    lifespan        BIGINT,
    expires_at      TIMESTAMPTZ,
    last_used_at    TIMESTAMPTZ,
    created_at      TIMESTAMPTZ NOT NULL,
    updated_at      TIMESTAMPTZ NOT NULL
);

CREATE TABLE content_types (
    uid        TEXT PRIMARY KEY,
    schema     TEXT NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    updated_at TIMESTAMPTZ NOT NULL
);

CREATE TABLE entries (
    id           BIGSERIAL PRIMARY KEY,
    document_id  TEXT NOT NULL,
    content_type TEXT NOT NULL,
    published_at TIMESTAMPTZ,
    data         JSONB NOT NULL,
    created_at   TIMESTAMPTZ NOT NULL,
    updated_at   TIMESTAMPTZ NOT NULL,
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
