-- +goose Up
-- Relations and media attributes are kept outside an entry's data, one row
-- per link, on the row (draft or published version) that holds them.
-- entry_relations holds the owning side of each relation: the target is a
-- document, and each reader sees the target's version in its own state
-- (drafts see drafts). The other side (mappedBy) is read through
-- entry_relations_target. position keeps a list's order.
CREATE TABLE entry_relations (
    entry_id           INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    field              TEXT NOT NULL,
    target_document_id TEXT NOT NULL,
    position           INTEGER NOT NULL,
    PRIMARY KEY (entry_id, field, target_document_id)
);

CREATE INDEX entry_relations_target ON entry_relations (target_document_id, field);

-- entry_files links media attributes to files of the media library.
CREATE TABLE entry_files (
    entry_id INTEGER NOT NULL REFERENCES entries (id) ON DELETE CASCADE,
    field    TEXT NOT NULL,
    file_id  INTEGER NOT NULL REFERENCES upload_files (id) ON DELETE CASCADE,
    position INTEGER NOT NULL,
    PRIMARY KEY (entry_id, field, file_id)
);

CREATE INDEX entry_files_file ON entry_files (file_id);

-- +goose Down
DROP INDEX entry_files_file;
DROP TABLE entry_files;
DROP INDEX entry_relations_target;
DROP TABLE entry_relations;
