-- IAM account properties (PutAccountProperties): `Namespace/PropertyName` keys an account
-- has set, with their values as given. A property never set has its default (in oxiam-core).

CREATE TABLE account_properties (
    account_id TEXT NOT NULL REFERENCES accounts (account_id),
    name       TEXT NOT NULL,
    value      TEXT NOT NULL,
    PRIMARY KEY (account_id, name)
);
