//! Tags of users, roles, managed policies and the rest that carries tags, changed after
//! creation.

use sqlx::AssertSqlSafe;

use crate::{EntityKind, Store, StoreError, Subject};

/// What carries tags.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TagOwner {
    /// A user (its tags are `aws:PrincipalTag/…` of its requests).
    User,
    /// A role (the same for its sessions).
    Role,
    /// A customer managed policy.
    Policy,
    /// An instance profile.
    InstanceProfile,
    /// An OpenID Connect provider (by ARN).
    OidcProvider,
    /// A virtual MFA device (by serial number).
    MfaDevice,
    /// A server certificate.
    ServerCertificate,
    /// A SAML provider (by ARN).
    SamlProvider,
}

impl TagOwner {
    fn subject(self) -> Subject {
        match self {
            TagOwner::User => Subject::Entity(EntityKind::User),
            TagOwner::Role => Subject::Entity(EntityKind::Role),
            TagOwner::Policy => Subject::Policy,
            TagOwner::InstanceProfile => Subject::InstanceProfile,
            TagOwner::OidcProvider => Subject::OidcProvider,
            TagOwner::MfaDevice => Subject::MfaDevice,
            TagOwner::ServerCertificate => Subject::ServerCertificate,
            TagOwner::SamlProvider => Subject::SamlProvider,
        }
    }

    /// Whether two keys differing only in case name the same tag: yes everywhere but on
    /// managed policies, where IAM keeps them apart.
    fn keys_ignore_case(self) -> bool {
        self != TagOwner::Policy
    }

    fn tables(self) -> (&'static str, &'static str, &'static str) {
        match self {
            TagOwner::User => ("users", "user_tags", "user_id"),
            TagOwner::Role => ("roles", "role_tags", "role_id"),
            TagOwner::Policy => ("policies", "policy_tags", "policy_id"),
            TagOwner::InstanceProfile => ("instance_profiles", "instance_profile_tags", "instance_profile_id"),
            TagOwner::OidcProvider => ("oidc_providers", "oidc_provider_tags", "arn"),
            TagOwner::MfaDevice => ("mfa_devices", "mfa_device_tags", "serial_number"),
            TagOwner::SamlProvider => ("saml_providers", "saml_provider_tags", "arn"),
            TagOwner::ServerCertificate => (
                "server_certificates",
                "server_certificate_tags",
                "server_certificate_id",
            ),
        }
    }
}

/// Writes an owner's tags, in order, inside the caller's transaction.
pub(crate) async fn insert_tags(
    tx: &mut crate::write::WriteTx,
    owner: TagOwner,
    id: &str,
    tags: &[(String, String)],
) -> Result<(), StoreError> {
    let (_, tag_table, id_column) = owner.tables();
    let insert = format!("INSERT INTO {tag_table} ({id_column}, position, tag_key, tag_value) VALUES ($1, $2, $3, $4)");
    for (position, (key, value)) in tags.iter().enumerate() {
        sqlx::query(AssertSqlSafe(insert.clone()))
            .bind(id)
            .bind(position as i64)
            .bind(key.as_str())
            .bind(value.as_str())
            .execute(&mut **tx)
            .await?;
    }
    Ok(())
}

impl Store {
    /// Adds or overwrites (`add`, keys compared regardless of case) and removes (`remove`)
    /// tags in one transaction, if at most `limit` remain. Tags of users and roles take
    /// part in authorization, so the account's policy epoch moves too.
    pub async fn update_tags(
        &self,
        account_id: &str,
        owner: TagOwner,
        id: &str,
        add: &[(String, String)],
        remove: &[String],
        limit: usize,
    ) -> Result<(), StoreError> {
        let (table, tag_table, id_column) = owner.tables();
        let mut tx = self.write_tx().await?;
        let lock = format!("UPDATE {table} SET {id_column} = {id_column} WHERE {id_column} = $1");
        if sqlx::query(AssertSqlSafe(lock))
            .bind(id)
            .execute(&mut *tx)
            .await?
            .rows_affected()
            == 0
        {
            // Gone since it was resolved: named by its id, the only name known here.
            return Err(StoreError::not_found(owner.subject(), id));
        }
        let read = format!("SELECT tag_key, tag_value FROM {tag_table} WHERE {id_column} = $1 ORDER BY position");
        let mut tags: Vec<(String, String)> = sqlx::query_as(AssertSqlSafe(read)).bind(id).fetch_all(&mut *tx).await?;
        let same_key = |a: &str, b: &str| {
            if owner.keys_ignore_case() {
                a.eq_ignore_ascii_case(b)
            } else {
                a == b
            }
        };
        for (key, value) in add {
            match tags.iter_mut().find(|(k, _)| same_key(k, key)) {
                Some(existing) => *existing = (key.clone(), value.clone()),
                None => tags.push((key.clone(), value.clone())),
            }
        }
        tags.retain(|(k, _)| !remove.iter().any(|r| same_key(r, k)));
        if tags.len() > limit {
            return Err(StoreError::LimitExceeded);
        }
        let clear = format!("DELETE FROM {tag_table} WHERE {id_column} = $1");
        sqlx::query(AssertSqlSafe(clear)).bind(id).execute(&mut *tx).await?;
        insert_tags(&mut tx, owner, id, &tags).await?;
        // A user's or role's tags are its requests' `aws:PrincipalTag/…`.
        match owner {
            TagOwner::User => tx.bump_policy_epoch_of(EntityKind::User, account_id, id),
            TagOwner::Role => tx.bump_policy_epoch_of(EntityKind::Role, account_id, id),
            _ => {}
        }
        tx.commit().await?;
        Ok(())
    }
}
