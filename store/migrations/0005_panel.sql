-- The panel: lockouts lifted on the console, and API tokens that belong to
-- a user.

-- Sign-in lockouts lifted on the console (punchbox admin unlock, punchbox
-- admin passwd). The daemon keeps lockouts in memory and reads this only
-- when it refuses a sign-in: a lockout whose last attempt is not after the
-- unlock is forgotten. account is a user name in lower case, or '' for
-- every account and every client address.
CREATE TABLE login_unlocks (
    account TEXT    PRIMARY KEY,
    at      INTEGER NOT NULL  -- unix milliseconds
) WITHOUT ROWID;

-- Every API token acts for its owner, a user, with at most the owner's
-- current role; deleting the user revokes their tokens (and then clears
-- owner_id). created_by stays, as the record of who made the token.
ALTER TABLE api_tokens ADD COLUMN owner_id INTEGER REFERENCES users (id) ON DELETE SET NULL;
CREATE INDEX api_tokens_owner ON api_tokens (owner_id);

-- A token made before owners existed belongs to the user who created it; a
-- token created with another token ("token:NAME") to that token's owner.
WITH RECURSIVE chain (id, by, depth) AS (
    SELECT id, created_by, 0 FROM api_tokens
    UNION ALL
    SELECT chain.id, t.created_by, chain.depth + 1
      FROM chain JOIN api_tokens t ON chain.by = 'token:' || t.name
     WHERE chain.depth < 16
)
UPDATE api_tokens SET owner_id = (
    SELECT u.id FROM chain JOIN users u ON u.name = chain.by
     WHERE chain.id = api_tokens.id
     ORDER BY chain.depth LIMIT 1);

-- A token whose creator is not a user (deleted since, or never one) has
-- nobody whose rights it could carry: it is revoked, and the audit log says
-- so.
INSERT INTO audit (at, actor, action, target, detail)
SELECT CAST(unixepoch('subsec') * 1000 AS INTEGER), 'punchbox', 'token.revoke', CAST(id AS TEXT),
       'token ' || name || ' revoked on upgrade: its creator '
           || CASE created_by WHEN '' THEN '(unknown)' ELSE created_by END || ' is not a user'
  FROM api_tokens WHERE owner_id IS NULL AND revoked = 0;
UPDATE api_tokens SET revoked = CAST(unixepoch('subsec') * 1000 AS INTEGER)
 WHERE owner_id IS NULL AND revoked = 0;
