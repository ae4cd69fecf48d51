-- How each account came to be: 'bootstrap' for the one a server makes at its first start
-- (the OXIAM_* variables' account, whose root may create others), 'operator' for one made
-- with `oxiam account create`. Every account that existed before this migration was the
-- bootstrap account (a server served exactly one). Conventions as in 0001.

ALTER TABLE accounts ADD COLUMN origin TEXT NOT NULL DEFAULT 'bootstrap';

-- At most one bootstrap account, whatever a later INSERT forgets to say.
CREATE UNIQUE INDEX accounts_one_bootstrap ON accounts (origin) WHERE origin = 'bootstrap';
