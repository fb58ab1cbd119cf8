-- Leases: exactly one instance is active for a tenant at a time. The active instance holds
-- the tenant's row here and renews it every second (`expires_at`, by the server's clock); a
-- standby takes the row over once it has expired and raises `epoch`. Every write transaction
-- of a holder first reads its tenant's row `FOR SHARE` and goes on only if the epoch is still
-- its own, so a paused or cut-off former holder cannot write after a takeover (fencing). The
-- row is never deleted: epochs only grow.

CREATE TABLE leases (
    tenant text PRIMARY KEY REFERENCES tenants,
    -- Who holds it (host, process and a random part), for operators.
    holder text NOT NULL,
    epoch bigint NOT NULL,
    expires_at timestamptz NOT NULL
);

-- The epoch prepared in 0001 moves into `leases`.
ALTER TABLE tenants DROP COLUMN epoch;
