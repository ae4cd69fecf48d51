//! Schema migrations: numbered SQL files applied once each, in order, in one transaction.
//! Several servers may start at once against one PostgreSQL, so the migration takes an
//! advisory lock there (SQLite's write lock serves the same purpose).

use crate::{Backend, Store, StoreError};
use sqlx::{AssertSqlSafe, Executor as _};

/// (version, SQL) in order. A released migration is never edited, only followed.
const MIGRATIONS: &[(i64, &str)] = &[
    (1, include_str!("migrations/0001_accounts_users_keys.sql")),
    (2, include_str!("migrations/0002_policies_roles_groups.sql")),
    (3, include_str!("migrations/0003_policy_epoch.sql")),
    (4, include_str!("migrations/0004_sessions.sql")),
    (5, include_str!("migrations/0005_session_tags.sql")),
    (6, include_str!("migrations/0006_user_sessions.sql")),
    (7, include_str!("migrations/0007_instance_profiles.sql")),
    (8, include_str!("migrations/0008_oidc_providers.sql")),
    (9, include_str!("migrations/0009_mfa_devices.sql")),
    (10, include_str!("migrations/0010_login_profiles.sql")),
    (11, include_str!("migrations/0011_ssh_keys_service_credentials.sql")),
    (12, include_str!("migrations/0012_certificates.sql")),
    (13, include_str!("migrations/0013_service_linked_roles.sql")),
    (14, include_str!("migrations/0014_saml_providers.sql")),
    (15, include_str!("migrations/0015_token_preferences.sql")),
    (16, include_str!("migrations/0016_federated_sessions.sql")),
    (17, include_str!("migrations/0017_saml_private_keys.sql")),
    (18, include_str!("migrations/0018_account_origin.sql")),
    (19, include_str!("migrations/0019_organizations.sql")),
    (20, include_str!("migrations/0020_outbound_federation.sql")),
    (21, include_str!("migrations/0021_access_advisor.sql")),
    (22, include_str!("migrations/0022_root_sessions.sql")),
    (23, include_str!("migrations/0023_s3.sql")),
    (24, include_str!("migrations/0024_scoped_sessions.sql")),
    (25, include_str!("migrations/0025_account_properties.sql")),
    (26, include_str!("migrations/0026_role_templates.sql")),
    (27, include_str!("migrations/0027_delegation_requests.sql")),
    (28, include_str!("migrations/0028_source_identity.sql")),
    (29, include_str!("migrations/0029_trusted_identity_propagation.sql")),
    (30, include_str!("migrations/0030_max_signin_session_duration.sql")),
    (31, include_str!("migrations/0031_entity_policy_epoch.sql")),
];

pub(crate) async fn migrate(store: &Store) -> Result<(), StoreError> {
    let mut tx = store.write_tx().await?;
    if store.backend == Backend::Postgres {
        // An arbitrary constant naming "oxiam schema migration".
        tx.execute("SELECT pg_advisory_xact_lock(7142010508)").await?;
    }
    tx.execute("CREATE TABLE IF NOT EXISTS oxiam_schema (version BIGINT PRIMARY KEY, applied_at BIGINT NOT NULL)")
        .await?;
    let applied: Option<(i64,)> = sqlx::query_as("SELECT COALESCE(MAX(version), 0) FROM oxiam_schema")
        .fetch_optional(&mut *tx)
        .await?;
    let current = applied.map(|r| r.0).unwrap_or(0);
    let known = MIGRATIONS.last().map_or(0, |(v, _)| *v);
    if current > known {
        return Err(StoreError::SchemaNewer { found: current, known });
    }
    for (version, sql) in MIGRATIONS.iter().filter(|(v, _)| *v > current) {
        tracing::info!(version, "applying schema migration");
        let sort_key = match store.backend {
            Backend::Sqlite => "TEXT",
            Backend::Postgres => "TEXT COLLATE \"C\"",
        };
        tx.execute(sqlx::raw_sql(AssertSqlSafe(sql.replace("SORT_KEY", sort_key))))
            .await?;
        sqlx::query("INSERT INTO oxiam_schema (version, applied_at) VALUES ($1, $2)")
            .bind(*version)
            .bind(0_i64)
            .execute(&mut *tx)
            .await?;
    }
    tx.commit().await?;
    Ok(())
}
