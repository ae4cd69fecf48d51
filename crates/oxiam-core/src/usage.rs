//! Last use of keys, roles and services, written in batches.
//!
//! Every authenticated request records when its key (or its role, for a role session) was
//! last used, and, for each action it asked for, when its user or role last attempted that
//! service and action (access advisor). Writing those rows on every request would turn each
//! read-only call into a durable write — one fsync per GetUser on SQLite. Instead the uses are kept here, one
//! entry per key and per role (the newest wins), and written together by
//! [`Oxiam::flush_usage`]: periodically by the server, and before anything that reads the
//! last-use columns (GetAccessKeyLastUsed, GetRole, the credential report,
//! GetAccountAuthorizationDetails), so that one server reads its own uses at once.
//! What a crash loses is at most one flush interval of last-use times — never an entity.

use std::collections::HashMap;
use std::sync::Mutex;

use crate::Oxiam;

/// The uses not yet written.
#[derive(Debug, Default)]
pub(crate) struct UsageLog {
    pending: Mutex<Pending>,
    /// Held while uses taken from `pending` are being written: a reader that must see
    /// them waits for a write already under way instead of finding `pending` empty.
    pub(crate) writing: tokio::sync::Mutex<()>,
}

#[derive(Debug, Default)]
pub(crate) struct Pending {
    /// access key id → (time, service, region)
    keys: HashMap<String, (i64, String, String)>,
    /// role id → (time, region)
    roles: HashMap<String, (i64, String)>,
    /// `ENTITY\nSERVICE\nACTION` (ACTION empty for the service as a whole) → the note.
    services: HashMap<String, ServiceNote>,
}

/// When a user or role (or root) last attempted a service or one of its tracked actions.
#[derive(Debug)]
struct ServiceNote {
    entity_id: String,
    account_id: String,
    service: String,
    /// Empty for the service as a whole.
    action: String,
    at: i64,
    region: String,
}

impl UsageLog {
    fn lock(&self) -> std::sync::MutexGuard<'_, Pending> {
        // A panic while holding this lock cannot leave the maps half-updated in a way
        // that matters: at worst one use is missing.
        self.pending.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub(crate) fn key_used(&self, access_key_id: &str, at: i64, service: &str, region: &str) {
        let mut pending = self.lock();
        match pending.keys.get_mut(access_key_id) {
            Some(entry) if entry.0 > at => {}
            Some(entry) if entry.0 == at && entry.1 == service && entry.2 == region => {}
            Some(entry) => *entry = (at, service.to_owned(), region.to_owned()),
            None => {
                pending
                    .keys
                    .insert(access_key_id.to_owned(), (at, service.to_owned(), region.to_owned()));
            }
        }
    }

    pub(crate) fn role_used(&self, role_id: &str, at: i64, region: &str) {
        let mut pending = self.lock();
        match pending.roles.get_mut(role_id) {
            Some(entry) if entry.0 > at => {}
            Some(entry) if entry.0 == at && entry.1 == region => {}
            Some(entry) => *entry = (at, region.to_owned()),
            None => {
                pending.roles.insert(role_id.to_owned(), (at, region.to_owned()));
            }
        }
    }

    /// The user or role `entity_id` (the account's id for its root) attempted `service`,
    /// and the tracked `action` of it if any. One lock, and past the key's one allocation
    /// none when the note is already there (the common case: the same caller again within
    /// the flush interval).
    pub(crate) fn service_used(
        &self,
        entity_id: &str,
        account_id: &str,
        service: &str,
        action: Option<&str>,
        at: i64,
        region: &str,
    ) {
        let mut key = String::with_capacity(entity_id.len() + service.len() + 40);
        key.push_str(entity_id);
        key.push('\n');
        key.push_str(service);
        key.push('\n');
        let whole_service = key.len();
        let mut pending = self.lock();
        for name in std::iter::once("").chain(action) {
            key.truncate(whole_service);
            key.push_str(name);
            match pending.services.get_mut(key.as_str()) {
                Some(note) if note.at > at || (note.at == at && note.region == region) => {}
                Some(note) => {
                    note.at = at;
                    note.region = region.to_owned();
                }
                None => {
                    let note = ServiceNote {
                        entity_id: entity_id.to_owned(),
                        account_id: account_id.to_owned(),
                        service: service.to_owned(),
                        action: name.to_owned(),
                        at,
                        region: region.to_owned(),
                    };
                    pending.services.insert(key.clone(), note);
                }
            }
        }
    }

    pub(crate) fn take(&self) -> Pending {
        std::mem::take(&mut *self.lock())
    }

    /// Puts back uses that could not be written, unless newer ones arrived meanwhile.
    fn restore(&self, failed: Pending) {
        let mut pending = self.lock();
        for (id, (at, service, region)) in failed.keys {
            pending.keys.entry(id).or_insert((at, service, region));
        }
        for (id, (at, region)) in failed.roles {
            pending.roles.entry(id).or_insert((at, region));
        }
        for (key, note) in failed.services {
            pending.services.entry(key).or_insert(note);
        }
    }
}

impl Oxiam {
    /// Writes the recorded uses of keys and roles to the store, in one transaction;
    /// returns once they (and any taken by a write already under way) are stored.
    pub async fn flush_usage(&self) -> Result<(), oxiam_store::StoreError> {
        // In a task of its own: a request dropped while it waits here cannot drop the
        // uses taken for writing with it.
        let this = self.clone();
        tokio::spawn(async move { this.write_usage().await })
            .await
            .unwrap_or_else(|e| Err(oxiam_store::StoreError::Commit(e.to_string().into())))
    }

    async fn write_usage(&self) -> Result<(), oxiam_store::StoreError> {
        let _one_at_a_time = self.usage.writing.lock().await;
        let pending = self.usage.take();
        if pending.keys.is_empty() && pending.roles.is_empty() && pending.services.is_empty() {
            return Ok(());
        }
        // Sorted, so that servers sharing a database lock rows in the same order.
        let mut keys: Vec<_> = pending
            .keys
            .iter()
            .map(|(id, (at, service, region))| oxiam_store::KeyUse {
                access_key_id: id,
                at: *at,
                service,
                region,
            })
            .collect();
        keys.sort_by_key(|u| u.access_key_id);
        let mut roles: Vec<_> = pending
            .roles
            .iter()
            .map(|(id, (at, region))| oxiam_store::RoleUse {
                role_id: id,
                at: *at,
                region,
            })
            .collect();
        roles.sort_by_key(|u| u.role_id);
        let mut services: Vec<_> = pending
            .services
            .values()
            .map(|note| oxiam_store::ServiceUse {
                entity_id: &note.entity_id,
                account_id: &note.account_id,
                service: &note.service,
                action: &note.action,
                at: note.at,
                region: &note.region,
            })
            .collect();
        services.sort_by_key(|u| (u.entity_id, u.service, u.action));
        let written = self.store.record_uses(&keys, &roles, &services).await;
        drop((keys, roles, services));
        if written.is_err() {
            self.usage.restore(pending);
        }
        written
    }

    /// [`Oxiam::flush_usage`] for readers of last-use data: a failure to write is logged,
    /// and the read goes on with what the store has.
    pub(crate) async fn flush_usage_before_read(&self) {
        if let Err(e) = self.flush_usage().await {
            tracing::warn!(error = %e, "could not write key and role last use");
        }
    }
}

/// The action of `service` (a lower-case prefix) named `name`, if access advisor reports it
/// on its own. Of the served services AWS tracks IAM's actions but `iam:PassRole` (which is
/// no API call), all of STS's and Organizations', and S3's management actions only — those
/// CloudTrail records as management events: not the object-level ones, nor the three
/// bucket listings it records as data events.
pub(crate) fn tracked_action(service: &str, name: &str) -> Option<&'static oxiam_catalogue::Action> {
    /// S3's actions on a bucket that CloudTrail counts as data events.
    const S3_DATA_LISTINGS: &[&str] = &["ListBucket", "ListBucketMultipartUploads", "ListBucketVersions"];
    let action = oxiam_catalogue::action(service, name)?;
    let tracked = match service {
        "iam" => action.name != "PassRole",
        "sts" | "organizations" => true,
        "s3" => {
            !S3_DATA_LISTINGS.contains(&action.name)
                && !action.resource_types.iter().any(|r| r.name.starts_with("object"))
        }
        _ => false,
    };
    tracked.then_some(action)
}

impl Oxiam {
    /// Records that `principal` attempted `action` (`s3:GetObject`), for access advisor: a
    /// user's attempt counts for the user, a role session's for its role, a federated user's
    /// for the IAM user that asked for it, the root's for the account (which only an
    /// organizations access report counts: no entity report is about the root).
    pub(crate) fn record_attempt(
        &self,
        principal: &crate::Principal,
        action: &str,
        facts: &crate::authz::RequestFacts,
    ) {
        use crate::PrincipalKind;
        let entity_id = match &principal.kind {
            PrincipalKind::User { user_id, .. } => user_id,
            PrincipalKind::AssumedRole { role_id, .. } => role_id,
            PrincipalKind::FederatedUser {
                issuer: Some(issuer), ..
            } => &issuer.user_id,
            PrincipalKind::Root | PrincipalKind::FederatedUser { issuer: None, .. } => &principal.account_id,
        };
        let Some((service, name)) = action.split_once(':') else {
            return;
        };
        // Actions oxiam authorizes are spelled in lower case but for tests and odd callers.
        let service: std::borrow::Cow<'_, str> = if service.bytes().any(|b| b.is_ascii_uppercase()) {
            service.to_ascii_lowercase().into()
        } else {
            service.into()
        };
        // IAM documents that it never tracks iam:PassRole, not even as the service's use.
        if service == "iam" && name.eq_ignore_ascii_case("PassRole") {
            return;
        }
        let tracked = tracked_action(&service, name).map(|a| a.name);
        let (account, at, region) = (&principal.account_id, facts.now, facts.region.as_str());
        self.usage
            .service_used(entity_id, account, &service, tracked, at, region);
    }
}
