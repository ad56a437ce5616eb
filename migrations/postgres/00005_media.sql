-- +goose Up
-- The media library: one row per uploaded file. The bytes live in the
-- upload storage under hash || ext; name, alternative_text and caption are
-- what editors see and change. created_by_kind and created_by_id name the
-- principal that uploaded the file (roles limited to their own entries may
-- change and delete only their own files). size is in bytes.
CREATE TABLE upload_files (
    id               BIGSERIAL PRIMARY KEY,
    document_id      TEXT NOT NULL UNIQUE,
    name             TEXT NOT NULL,
    alternative_text TEXT,
    caption          TEXT,
    width            INTEGER,
    height           INTEGER,
    hash             TEXT NOT NULL UNIQUE,
    ext              TEXT NOT NULL DEFAULT '',
    mime             TEXT NOT NULL,
    size             BIGINT NOT NULL,
    created_by_kind  TEXT NOT NULL DEFAULT '',
    created_by_id    BIGINT NOT NULL DEFAULT 0,
    created_at       TIMESTAMPTZ NOT NULL,
    updated_at       TIMESTAMPTZ NOT NULL
);

CREATE INDEX upload_files_created_at ON upload_files (created_at);

-- +goose Down
DROP INDEX upload_files_created_at;
DROP TABLE upload_files;
