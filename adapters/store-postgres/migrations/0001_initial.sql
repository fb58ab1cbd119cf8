-- The first layout of the sprechstunde store. Every table starts with `tenant`: one
-- PostgreSQL database can later hold several offices, each written by the instance that
-- holds its lease (the `epoch` in `tenants`). Until then there is the single tenant
-- 'default'.

CREATE TABLE tenants (
    tenant text PRIMARY KEY,
    -- Raised by every new lease holder; writes will be conditioned on it (fencing).
    epoch bigint NOT NULL DEFAULT 0
);
INSERT INTO tenants (tenant) VALUES ('default');

-- Counters and other single values of a tenant, JSON.
CREATE TABLE meta (
    tenant text NOT NULL REFERENCES tenants,
    name text NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tenant, name)
);

-- Engine entities: kind 's' session, 'q' question, 'c' citizen, 'o' outbox message,
-- 'd' department, 'y' summary (by session id). Citizens, questions, outbox messages and
-- summaries are sealed under a key in `record_keys`; the others are JSON.
CREATE TABLE records (
    tenant text NOT NULL REFERENCES tenants,
    kind text NOT NULL,
    id bigint NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tenant, kind, id)
);

-- Keys of sealed records: 'c' citizen, 'q' question, 's' summary version. Erasure deletes
-- the row; the store then rewrites the table (VACUUM FULL) so the bytes leave its files.
CREATE TABLE record_keys (
    tenant text NOT NULL REFERENCES tenants,
    kind text NOT NULL,
    id bigint NOT NULL,
    key bytea NOT NULL,
    PRIMARY KEY (tenant, kind, id)
);
CREATE SEQUENCE summary_key_serial;

CREATE TABLE staff (
    tenant text NOT NULL REFERENCES tenants,
    id bigint NOT NULL,
    login text NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tenant, id),
    UNIQUE (tenant, login)
);

CREATE TABLE tokens (
    tenant text NOT NULL REFERENCES tenants,
    id text NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE token_uses (
    tenant text NOT NULL REFERENCES tenants,
    id text NOT NULL,
    at text NOT NULL,
    PRIMARY KEY (tenant, id)
);

CREATE TABLE logins (
    tenant text NOT NULL REFERENCES tenants,
    secret_hash text NOT NULL,
    staff bigint NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tenant, secret_hash)
);
CREATE INDEX logins_by_staff ON logins (tenant, staff);

CREATE TABLE audit (
    tenant text NOT NULL REFERENCES tenants,
    seq bigint NOT NULL,
    value bytea NOT NULL,
    PRIMARY KEY (tenant, seq)
);

CREATE TABLE audit_anchor (
    tenant text PRIMARY KEY REFERENCES tenants,
    value bytea NOT NULL
);
