//! What users, groups and roles share: managed policy attachments and inline policies,
//! each guarded by a quota that the write's transaction enforces: writes run one at a time
//! (write.rs), so what a write counts stays counted until it commits.

use sqlx::{AssertSqlSafe, Row};

use crate::cache::Sections;
use crate::{Store, StoreError, Subject};

/// The principals and groups that policies attach to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum EntityKind {
    /// An IAM user.
    User,
    /// An IAM group.
    Group,
    /// An IAM role.
    Role,
}

impl EntityKind {
    /// The value stored in `entity_kind` columns.
    pub fn as_str(self) -> &'static str {
        match self {
            EntityKind::User => "user",
            EntityKind::Group => "group",
            EntityKind::Role => "role",
        }
    }

    /// Parses a stored `entity_kind`.
    pub fn from_stored(s: &str) -> Option<Self> {
        match s {
            "user" => Some(EntityKind::User),
            "group" => Some(EntityKind::Group),
            "role" => Some(EntityKind::Role),
            _ => None,
        }
    }

    pub(crate) fn table(self) -> &'static str {
        match self {
            EntityKind::User => "users",
            EntityKind::Group => "iam_groups",
            EntityKind::Role => "roles",
        }
    }

    pub(crate) fn id_column(self) -> &'static str {
        match self {
            EntityKind::User => "user_id",
            EntityKind::Group => "group_id",
            EntityKind::Role => "role_id",
        }
    }
}

/// A user, group or role found by name.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EntityRef {
    /// The account that holds it.
    pub account_id: String,
    /// Which kind of entity.
    pub kind: EntityKind,
    /// Its id (`AIDA…`, `AGPA…`, `AROA…`).
    pub id: String,
    /// Its name as stored.
    pub name: String,
    /// Its path.
    pub path: String,
}

/// An inline policy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InlinePolicy {
    /// The policy's name.
    pub name: String,
    /// The policy document as given.
    pub document: String,
}

type Tx = crate::write::WriteTx;

/// Takes the write lock on an entity's row for the rest of the transaction (a no-op
/// UPDATE: PostgreSQL row-locks it, SQLite already holds the database write lock), so
/// that quota checks on that entity are serialized. `NotFound` (by `name`) if the row is
/// gone.
pub(crate) async fn lock_entity(tx: &mut Tx, kind: EntityKind, id: &str, name: &str) -> Result<(), StoreError> {
    let sql = format!(
        "UPDATE {t} SET name = name WHERE {c} = $1",
        t = kind.table(),
        c = kind.id_column()
    );
    let done = sqlx::query(AssertSqlSafe(sql)).bind(id).execute(&mut **tx).await?;
    if done.rows_affected() == 0 {
        Err(StoreError::not_found(Subject::Entity(kind), name))
    } else {
        Ok(())
    }
}

/// Takes the write lock on an account's row (what account-wide quotas are counted under);
/// `NotFound` if there is no such account. The statement sets a column no other table
/// refers to: setting the key itself would make SQLite check every table that refers to
/// accounts, under the one writer's lock.
pub(crate) async fn lock_account(tx: &mut Tx, account_id: &str) -> Result<(), StoreError> {
    let locked = sqlx::query("UPDATE accounts SET created_at = created_at WHERE account_id = $1")
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    if locked.rows_affected() == 0 {
        Err(StoreError::not_found(Subject::Account, account_id))
    } else {
        Ok(())
    }
}

/// Takes the write lock on a customer managed policy used as a boundary, so that it cannot
/// be deleted before the transaction commits; `NotFound` if it is gone.
pub(crate) async fn lock_customer_policy(tx: &mut Tx, account_id: &str, arn: &str) -> Result<(), StoreError> {
    let locked = sqlx::query("UPDATE policies SET name = name WHERE arn = $1 AND account_id = $2")
        .bind(arn)
        .bind(account_id)
        .execute(&mut **tx)
        .await?;
    if locked.rows_affected() == 0 {
        Err(StoreError::not_found(Subject::Policy, arn))
    } else {
        Ok(())
    }
}

/// The permissions boundary a new user or role is created with.
#[derive(Debug, Clone, Copy)]
pub struct NewBoundary<'a> {
    /// The managed policy's ARN.
    pub arn: &'a str,
    /// Whether it is a customer managed policy (locked like an attachment, and required to
    /// exist when the transaction commits) rather than an AWS managed one.
    pub customer: bool,
}

/// A policy that applies to a principal, as stored: a managed policy's ARN with its
/// default document (`None` for AWS managed policies, whose documents are built in), or
/// an inline policy's name and document.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoredPolicy {
    /// A managed policy attached to the entity (or to one of the user's groups).
    Managed {
        /// Its ARN.
        arn: String,
        /// The default version's document, for customer managed policies.
        document: Option<String>,
    },
    /// An inline policy of the entity (or of one of the user's groups).
    Inline {
        /// Which entity holds it.
        holder: EntityKind,
        /// The holder's name.
        holder_name: String,
        /// The policy's name.
        name: String,
        /// The document.
        document: String,
    },
}

impl Store {
    /// Every identity policy of a user or role: its own inline and attached policies and,
    /// for a user, those of its groups.
    pub async fn identity_policies(&self, kind: EntityKind, entity_id: &str) -> Result<Vec<StoredPolicy>, StoreError> {
        let mut holders: Vec<(EntityKind, String, String)> = Vec::new();
        let own_sql = format!(
            "SELECT name FROM {t} WHERE {c} = $1",
            t = kind.table(),
            c = kind.id_column()
        );
        let own: Option<(String,)> = sqlx::query_as(AssertSqlSafe(own_sql))
            .bind(entity_id)
            .fetch_optional(&self.pool)
            .await?;
        // Gone since it was resolved: named by its id, the only name known here.
        let Some((own_name,)) = own else {
            return Err(StoreError::not_found(Subject::Entity(kind), entity_id));
        };
        holders.push((kind, entity_id.to_owned(), own_name));
        if kind == EntityKind::User {
            let groups: Vec<(String, String)> = sqlx::query_as(
                "SELECT g.group_id, g.name FROM iam_groups g JOIN group_members m ON m.group_id = g.group_id \
                 WHERE m.user_id = $1 ORDER BY g.name_key",
            )
            .bind(entity_id)
            .fetch_all(&self.pool)
            .await?;
            holders.extend(groups.into_iter().map(|(id, name)| (EntityKind::Group, id, name)));
        }
        let mut out = Vec::new();
        for (holder, id, holder_name) in holders {
            let inline: Vec<(String, String)> = sqlx::query_as(
                "SELECT name, document FROM inline_policies WHERE entity_kind = $1 AND entity_id = $2 ORDER BY name_key",
            )
            .bind(holder.as_str())
            .bind(id.as_str())
            .fetch_all(&self.pool)
            .await?;
            out.extend(inline.into_iter().map(|(name, document)| StoredPolicy::Inline {
                holder,
                holder_name: holder_name.clone(),
                name,
                document,
            }));
            let managed: Vec<(String, Option<String>)> = sqlx::query_as(
                "SELECT a.policy_arn, v.document FROM attachments a \
                 LEFT JOIN policies p ON p.arn = a.policy_arn \
                 LEFT JOIN policy_versions v ON v.policy_id = p.policy_id AND v.version = p.default_version \
                 WHERE a.entity_kind = $1 AND a.entity_id = $2 ORDER BY a.attached_at, a.policy_arn",
            )
            .bind(holder.as_str())
            .bind(id.as_str())
            .fetch_all(&self.pool)
            .await?;
            out.extend(
                managed
                    .into_iter()
                    .map(|(arn, document)| StoredPolicy::Managed { arn, document }),
            );
        }
        Ok(out)
    }

    /// The permissions boundary of a user or role: its ARN and, for a customer managed
    /// policy, the default version's document.
    pub async fn permissions_boundary(
        &self,
        kind: EntityKind,
        entity_id: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        let cache_key = (kind, entity_id.to_owned());
        let cached = self.cache_generation();
        if let Some((cache, generation)) = cached
            && let Some(hit) = cache.boundaries.get(&cache_key, generation)
        {
            return Ok(hit);
        }
        let found = self.permissions_boundary_as_stored(kind, entity_id).await?;
        if let Some((cache, generation)) = cached {
            cache.boundaries.put(cache_key, generation, found.clone());
        }
        Ok(found)
    }

    /// The permissions boundary of a user or role, from the database (never the read cache):
    /// what authorization compiles a principal's policies from (see `oxiam-core`'s authz).
    pub async fn permissions_boundary_as_stored(
        &self,
        kind: EntityKind,
        entity_id: &str,
    ) -> Result<Option<(String, Option<String>)>, StoreError> {
        let sql = format!(
            "SELECT e.permissions_boundary, v.document FROM {t} e \
             LEFT JOIN policies p ON p.arn = e.permissions_boundary \
             LEFT JOIN policy_versions v ON v.policy_id = p.policy_id AND v.version = p.default_version \
             WHERE e.{c} = $1",
            t = kind.table(),
            c = kind.id_column()
        );
        let row: Option<(Option<String>, Option<String>)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(entity_id)
            .fetch_optional(&self.pool)
            .await?;
        let (arn, document) = row.ok_or_else(|| StoreError::not_found(Subject::Entity(kind), entity_id))?;
        Ok(arn.map(|arn| (arn, document)))
    }

    /// Sets (or with `None` removes) the permissions boundary of a user or role. A customer
    /// managed policy used as a boundary is locked like an attachment, so it cannot be
    /// deleted meanwhile.
    pub async fn set_permissions_boundary(
        &self,
        account_id: &str,
        entity: &EntityRef,
        policy_arn: Option<&str>,
        customer_policy: bool,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        lock_entity(&mut tx, entity.kind, &entity.id, &entity.name).await?;
        if let (Some(arn), true) = (policy_arn, customer_policy) {
            lock_customer_policy(&mut tx, account_id, arn).await?;
        }
        let sql = format!(
            "UPDATE {t} SET permissions_boundary = $2 WHERE {c} = $1",
            t = entity.kind.table(),
            c = entity.kind.id_column()
        );
        sqlx::query(AssertSqlSafe(sql))
            .bind(entity.id.as_str())
            .bind(policy_arn)
            .execute(&mut *tx)
            .await?;
        tx.bump_policy_epoch_of(entity.kind, account_id, &entity.id);
        tx.commit().await?;
        Ok(())
    }

    /// How many users and roles of the account use a policy as their permissions boundary.
    pub async fn boundary_usage(&self, account_id: &str, policy_arn: &str) -> Result<i64, StoreError> {
        let (users, roles): (i64, i64) = sqlx::query_as(
            "SELECT (SELECT COUNT(*) FROM users WHERE account_id = $1 AND permissions_boundary = $2), \
             (SELECT COUNT(*) FROM roles WHERE account_id = $1 AND permissions_boundary = $2)",
        )
        .bind(account_id)
        .bind(policy_arn)
        .fetch_one(&self.pool)
        .await?;
        Ok(users + roles)
    }

    /// A user, group or role by name (regardless of case).
    pub async fn find_entity(&self, account_id: &str, kind: EntityKind, name: &str) -> Result<EntityRef, StoreError> {
        let cache_key = (account_id.to_owned(), kind, name.to_ascii_lowercase());
        let cached = self.cache_generation();
        if let Some((cache, generation)) = cached
            && let Some(hit) = cache.entities.get(&cache_key, generation)
        {
            return Ok(hit);
        }
        let sql = format!(
            "SELECT {c}, name, path FROM {t} WHERE account_id = $1 AND name_key = $2",
            t = kind.table(),
            c = kind.id_column()
        );
        let row: Option<(String, String, String)> = sqlx::query_as(AssertSqlSafe(sql))
            .bind(account_id)
            .bind(name.to_ascii_lowercase())
            .fetch_optional(&self.pool)
            .await?;
        let (id, name, path) = row.ok_or_else(|| StoreError::not_found(Subject::Entity(kind), name))?;
        let found = EntityRef {
            account_id: account_id.to_owned(),
            kind,
            id,
            name,
            path,
        };
        if let Some((cache, generation)) = cached {
            cache.entities.put(cache_key, generation, found.clone());
        }
        Ok(found)
    }

    /// Attaches a managed policy; attaching one already attached changes nothing.
    /// `customer_policy` says the ARN names a policy of the `policies` table, which must
    /// exist when the attachment is written (a DeletePolicy, another write, runs wholly
    /// before or after it).
    pub async fn attach_policy(
        &self,
        account_id: &str,
        entity: &EntityRef,
        policy_arn: &str,
        customer_policy: bool,
        now: i64,
        quota: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // Attachments are not cached; the epoch bump drops the keys (see write.rs).
        tx.changes_only(Sections::NONE);
        // One statement checks that the entity (and a customer managed policy) exists,
        // counts the quota and inserts. Writes run one at a time, across servers too
        // (write.rs), so nothing it reads can change before the batch commits.
        let policy_exists = if customer_policy {
            "AND EXISTS (SELECT 1 FROM policies WHERE arn = $4 AND account_id = $1)"
        } else {
            ""
        };
        let sql = format!(
            "INSERT INTO attachments (account_id, entity_kind, entity_id, policy_arn, attached_at) \
             SELECT $1, $2, $3, $4, $5 \
             WHERE EXISTS (SELECT 1 FROM {t} WHERE {c} = $3) {policy_exists} \
             AND (SELECT COUNT(*) FROM attachments WHERE entity_kind = $2 AND entity_id = $3) < $6 \
             ON CONFLICT DO NOTHING",
            t = entity.kind.table(),
            c = entity.kind.id_column()
        );
        let inserted = sqlx::query(AssertSqlSafe(sql))
            .bind(account_id)
            .bind(entity.kind.as_str())
            .bind(entity.id.as_str())
            .bind(policy_arn)
            .bind(now)
            .bind(quota)
            .execute(&mut *tx)
            .await?;
        if inserted.rows_affected() == 0 {
            // Why not, in the order the checks are reported: the entity is gone, the policy
            // is, or the policy is attached already (nothing changes, no error), else the
            // entity's attachments are at the quota.
            let sql = format!(
                "SELECT (SELECT COUNT(*) FROM {t} WHERE {c} = $1), \
                 (SELECT COUNT(*) FROM policies WHERE arn = $2 AND account_id = $3), \
                 (SELECT COUNT(*) FROM attachments WHERE entity_kind = $4 AND entity_id = $1 AND policy_arn = $2)",
                t = entity.kind.table(),
                c = entity.kind.id_column()
            );
            let (entities, policies, attached): (i64, i64, i64) = sqlx::query_as(AssertSqlSafe(sql))
                .bind(entity.id.as_str())
                .bind(policy_arn)
                .bind(account_id)
                .bind(entity.kind.as_str())
                .fetch_one(&mut *tx)
                .await?;
            return if entities == 0 {
                Err(StoreError::not_found(Subject::Entity(entity.kind), &entity.name))
            } else if customer_policy && policies == 0 {
                Err(StoreError::not_found(Subject::Policy, policy_arn))
            } else if attached > 0 {
                // Nothing changed, and committed as such: a write dropped uncommitted makes
                // its batch drop the whole read cache (write.rs), on every server.
                tx.commit().await
            } else {
                Err(StoreError::LimitExceeded)
            };
        }
        tx.bump_policy_epoch_of(entity.kind, account_id, &entity.id);
        tx.commit().await?;
        Ok(())
    }

    /// Detaches a managed policy; `NotFound` if it was not attached.
    pub async fn detach_policy(&self, entity: &EntityRef, policy_arn: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        tx.changes_only(Sections::NONE);
        let done = sqlx::query("DELETE FROM attachments WHERE entity_kind = $1 AND entity_id = $2 AND policy_arn = $3")
            .bind(entity.kind.as_str())
            .bind(entity.id.as_str())
            .bind(policy_arn)
            .execute(&mut *tx)
            .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::Attachment, policy_arn));
        }
        tx.bump_policy_epoch_of(entity.kind, &entity.account_id, &entity.id);
        tx.commit().await?;
        Ok(())
    }

    /// The ARNs of the managed policies attached to an entity, in attachment order.
    pub async fn attached_policies(&self, kind: EntityKind, entity_id: &str) -> Result<Vec<String>, StoreError> {
        let rows: Vec<(String,)> = sqlx::query_as(
            "SELECT policy_arn FROM attachments WHERE entity_kind = $1 AND entity_id = $2 ORDER BY attached_at, policy_arn",
        )
        .bind(kind.as_str())
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows.into_iter().map(|r| r.0).collect())
    }

    /// The entities a managed policy is attached to in an account.
    pub async fn policy_entities(&self, account_id: &str, policy_arn: &str) -> Result<Vec<EntityRef>, StoreError> {
        let rows: Vec<(String, String, String, String)> = sqlx::query_as(
            "SELECT a.entity_kind, a.entity_id, COALESCE(u.name, g.name, r.name), COALESCE(u.path, g.path, r.path) \
             FROM attachments a \
             LEFT JOIN users u ON a.entity_kind = 'user' AND u.user_id = a.entity_id \
             LEFT JOIN iam_groups g ON a.entity_kind = 'group' AND g.group_id = a.entity_id \
             LEFT JOIN roles r ON a.entity_kind = 'role' AND r.role_id = a.entity_id \
             WHERE a.account_id = $1 AND a.policy_arn = $2 ORDER BY a.entity_kind, 3",
        )
        .bind(account_id)
        .bind(policy_arn)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .filter_map(|(kind, id, name, path)| {
                Some(EntityRef {
                    account_id: account_id.to_owned(),
                    kind: EntityKind::from_stored(&kind)?,
                    id,
                    name,
                    path,
                })
            })
            .collect())
    }

    /// How many entities of the account each attached policy ARN is attached to.
    pub async fn attachment_counts(&self, account_id: &str) -> Result<Vec<(String, i64)>, StoreError> {
        let rows: Vec<(String, i64)> = sqlx::query_as(
            "SELECT policy_arn, COUNT(*) FROM attachments WHERE account_id = $1 GROUP BY policy_arn ORDER BY policy_arn",
        )
        .bind(account_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows)
    }

    /// Creates or replaces an inline policy, if the entity's inline policies stay within
    /// `size_quota` characters (without whitespace) in all.
    pub async fn put_inline_policy(
        &self,
        entity: &EntityRef,
        name: &str,
        document: &str,
        size: i64,
        size_quota: i64,
    ) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // Inline policies are not cached; the epoch bump drops the keys (see write.rs).
        tx.changes_only(Sections::NONE);
        lock_entity(&mut tx, entity.kind, &entity.id, &entity.name).await?;
        sqlx::query("DELETE FROM inline_policies WHERE entity_kind = $1 AND entity_id = $2 AND name_key = $3")
            .bind(entity.kind.as_str())
            .bind(entity.id.as_str())
            .bind(name.to_ascii_lowercase())
            .execute(&mut *tx)
            .await?;
        let (others,): (i64,) = sqlx::query_as(
            "SELECT CAST(COALESCE(SUM(size), 0) AS BIGINT) FROM inline_policies WHERE entity_kind = $1 AND entity_id = $2",
        )
        .bind(entity.kind.as_str())
        .bind(entity.id.as_str())
        .fetch_one(&mut *tx)
        .await?;
        if others + size > size_quota {
            return Err(StoreError::LimitExceeded);
        }
        sqlx::query(
            "INSERT INTO inline_policies (entity_kind, entity_id, name, name_key, document, size) \
             VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(entity.kind.as_str())
        .bind(entity.id.as_str())
        .bind(name)
        .bind(name.to_ascii_lowercase())
        .bind(document)
        .bind(size)
        .execute(&mut *tx)
        .await?;
        tx.bump_policy_epoch_of(entity.kind, &entity.account_id, &entity.id);
        tx.commit().await?;
        Ok(())
    }

    /// An inline policy by name (regardless of case).
    pub async fn get_inline_policy(&self, entity: &EntityRef, name: &str) -> Result<InlinePolicy, StoreError> {
        let row: Option<(String, String)> = sqlx::query_as(
            "SELECT name, document FROM inline_policies WHERE entity_kind = $1 AND entity_id = $2 AND name_key = $3",
        )
        .bind(entity.kind.as_str())
        .bind(entity.id.as_str())
        .bind(name.to_ascii_lowercase())
        .fetch_optional(&self.pool)
        .await?;
        let (name, document) = row.ok_or_else(|| StoreError::not_found(Subject::InlinePolicy(entity.kind), name))?;
        Ok(InlinePolicy { name, document })
    }

    /// An entity's inline policies, by name.
    pub async fn inline_policies(&self, kind: EntityKind, entity_id: &str) -> Result<Vec<InlinePolicy>, StoreError> {
        let rows: Vec<(String, String)> = sqlx::query_as(
            "SELECT name, document FROM inline_policies WHERE entity_kind = $1 AND entity_id = $2 ORDER BY name_key",
        )
        .bind(kind.as_str())
        .bind(entity_id)
        .fetch_all(&self.pool)
        .await?;
        Ok(rows
            .into_iter()
            .map(|(name, document)| InlinePolicy { name, document })
            .collect())
    }

    /// Deletes an inline policy; `NotFound` if there is none of that name.
    pub async fn delete_inline_policy(&self, entity: &EntityRef, name: &str) -> Result<(), StoreError> {
        let mut tx = self.write_tx().await?;
        // Inline policies are not cached; the epoch bump drops the keys (see write.rs).
        tx.changes_only(Sections::NONE);
        let done =
            sqlx::query("DELETE FROM inline_policies WHERE entity_kind = $1 AND entity_id = $2 AND name_key = $3")
                .bind(entity.kind.as_str())
                .bind(entity.id.as_str())
                .bind(name.to_ascii_lowercase())
                .execute(&mut *tx)
                .await?;
        if done.rows_affected() == 0 {
            return Err(StoreError::not_found(Subject::InlinePolicy(entity.kind), name));
        }
        tx.bump_policy_epoch_of(entity.kind, &entity.account_id, &entity.id);
        tx.commit().await?;
        Ok(())
    }
}

/// What still hangs off an entity that must go before the entity can be deleted, checked
/// inside the deleting transaction after the entity's row is locked: every kind of
/// dependent counted in one round trip, the first found (in this order) reported.
pub(crate) async fn dependents(tx: &mut Tx, kind: EntityKind, id: &str) -> Result<Option<Dependent>, StoreError> {
    // Each: what is reported, and the rows that hold it ($1 the kind, $2 the id).
    let mut checks = vec![
        (
            Dependent::AttachedPolicies,
            "attachments WHERE entity_kind = $1 AND entity_id = $2",
        ),
        (
            Dependent::InlinePolicies,
            "inline_policies WHERE entity_kind = $1 AND entity_id = $2",
        ),
    ];
    match kind {
        EntityKind::Role => checks.push((
            Dependent::InstanceProfileRoles,
            "instance_profile_roles WHERE role_id = $2",
        )),
        EntityKind::User => checks.extend([
            (Dependent::LoginProfile, "login_profiles WHERE user_id = $2"),
            (Dependent::MfaDevices, "mfa_devices WHERE user_id = $2"),
            (Dependent::Certificates, "signing_certificates WHERE owner_id = $2"),
            (Dependent::ReferencedObjects, "ssh_public_keys WHERE user_id = $2"),
            (Dependent::ReferencedObjects, "service_credentials WHERE user_id = $2"),
            (Dependent::Memberships, "group_members WHERE user_id = $2"),
        ]),
        EntityKind::Group => checks.push((Dependent::Memberships, "group_members WHERE group_id = $2")),
    }
    let counts: Vec<String> = checks
        .iter()
        .map(|(_, rows)| format!("(SELECT COUNT(*) FROM {rows})"))
        .collect();
    let row = sqlx::query(AssertSqlSafe(format!("SELECT {}", counts.join(", "))))
        .bind(kind.as_str())
        .bind(id)
        .fetch_one(&mut **tx)
        .await?;
    for (i, (dependent, _)) in checks.iter().enumerate() {
        if row.try_get::<i64, _>(i)? > 0 {
            return Ok(Some(*dependent));
        }
    }
    Ok(None)
}

/// Why an entity cannot be deleted yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Dependent {
    /// It still has access keys.
    AccessKeys,
    /// Managed policies are still attached.
    AttachedPolicies,
    /// Inline policies remain.
    InlinePolicies,
    /// A user is still in groups, or a group still has members.
    Memberships,
    /// A managed policy is still attached to entities.
    PolicyAttached,
    /// A managed policy still has versions besides its default.
    PolicyVersions,
    /// The version to delete is the policy's default.
    DefaultVersion,
    /// A role is still in an instance profile, or a profile still holds a role.
    InstanceProfileRoles,
    /// A user still has an MFA device enabled, or a device is still enabled for a user.
    MfaDevices,
    /// A user still has a login profile (a password).
    LoginProfile,
    /// A user still has SSH public keys or service-specific credentials.
    ReferencedObjects,
    /// A user still has signing certificates.
    Certificates,
}
