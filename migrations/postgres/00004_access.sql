-- +goose Up
-- The users-permissions roles of the content API: 'public' answers requests
-- without credentials, 'authenticated' signed-in end users. permissions is a
-- JSON list of content API actions such as "api::article.article.find".
CREATE TABLE end_user_roles (
    type        TEXT PRIMARY KEY,
    name        TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    permissions TEXT NOT NULL DEFAULT '[]',
    created_at  TIMESTAMPTZ NOT NULL,
    updated_at  TIMESTAMPTZ NOT NULL
);

INSERT INTO end_user_roles (type, name, description, permissions, created_at, updated_at) VALUES
    ('public', 'Public', 'Requests without credentials.', '[]', now(), now()),
    ('authenticated', 'Authenticated', 'Signed-in end users.', '[]', now(), now());

-- End users, Strapi's users-permissions users. Usernames are unique whatever
-- their case; emails are stored lowercased.
CREATE TABLE end_users (
    id            BIGSERIAL PRIMARY KEY,
    document_id   TEXT NOT NULL UNIQUE,
    username      TEXT NOT NULL,
    email         TEXT NOT NULL UNIQUE,
    password_hash TEXT NOT NULL,
    provider      TEXT NOT NULL DEFAULT 'local',
    confirmed     BOOLEAN NOT NULL DEFAULT TRUE,
    blocked       BOOLEAN NOT NULL DEFAULT FALSE,
    created_at    TIMESTAMPTZ NOT NULL,
    updated_at    TIMESTAMPTZ NOT NULL
);

CREATE UNIQUE INDEX end_users_username ON end_users (lower(username));

-- Counting a role's administrators (the last Super Admin rule, deleting a
-- role) reads this index.
CREATE INDEX admin_users_role ON admin_users (role_id);

-- Editor and Author become ordinary permission lists, editable like custom
-- roles. Super Admin keeps no list: it may do everything.
UPDATE admin_roles SET permissions = '[{"action":"content.read","subject":null,"ownOnly":false},{"action":"content.create","subject":null,"ownOnly":false},{"action":"content.update","subject":null,"ownOnly":false},{"action":"content.delete","subject":null,"ownOnly":false},{"action":"content.publish","subject":null,"ownOnly":false}]'
    WHERE code = 'strapi-editor';
UPDATE admin_roles SET permissions = '[{"action":"content.read","subject":null,"ownOnly":true},{"action":"content.create","subject":null,"ownOnly":false},{"action":"content.update","subject":null,"ownOnly":true},{"action":"content.delete","subject":null,"ownOnly":true}]'
    WHERE code = 'strapi-author';

-- +goose Down
UPDATE admin_roles SET permissions = '[]' WHERE code IN ('strapi-editor', 'strapi-author');
DROP INDEX admin_users_role;
DROP TABLE end_users;
DROP TABLE end_user_roles;
