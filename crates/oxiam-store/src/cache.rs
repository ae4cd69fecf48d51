//! Reads answered from memory on SQLite, where this process is the database's only writer.
//!
//! Every request looks its access key up, and most look up a user or its path; on SQLite
//! each query is a round trip to the connection's worker thread, which costs more than the
//! query. So the rows those lookups return are kept here, each tagged with the *write
//! generation* of its section (keys, users, …) current when its query began. Every commit
//! (successful or not) advances the generation of each section it may have changed before
//! it is acknowledged, and an entry is used only while its section's generation is still
//! the one it was read at. A read therefore never returns anything older than the last
//! acknowledged write: a cached row is one that no write that could change it has come
//! after.
//!
//! A write may change any section unless it says otherwise ([`Sections`]; `write.rs`):
//! only the frequent writes that change little say so (an attachment, the last-use
//! records), so that they do not empty the whole cache many times a second.
//!
//! On SQLite that holds because every write goes through this process, which the lock file
//! next to the database guarantees (see `Store::open`). On PostgreSQL other servers write
//! too, so each commit also tells every server through PostgreSQL's notifications
//! (`replication.rs`), and a server answers from memory only while it holds a [`Lease`]: a
//! proof, renewed ten times a second, that its notification connection has delivered every
//! write committed before the renewal. Without one (the connection lost, or silent), every
//! lookup queries.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

use crate::{BucketRow, EntityKind, EntityRef, KeyWithOwner, ObjectRow, Page, UserRow};

/// Entries kept per kind of lookup before the map is emptied (a bound, not an eviction
/// policy: the working set of a server is its active keys and users).
const CAPACITY: usize = 16_384;
/// Pages of users kept (each up to 1,000 rows): a listing is read again and again by the
/// same few clients (a dashboard, a reconciler), and a page is large.
const PAGES: usize = 64;
/// S3 object versions kept: a row carries its user metadata (up to 2 KB) and tags, so
/// fewer of them than of the small rows.
const OBJECTS: usize = 4_096;

/// The kinds of cached lookups a commit may have changed: one bit per [`Cached`] map of the
/// [`ReadCache`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Sections(u8);

/// How many sections there are.
const SECTIONS: usize = 7;

impl Sections {
    /// Nothing any lookup returns.
    pub(crate) const NONE: Self = Self(0);
    /// Keys with their owner and the policy epoch read with them.
    pub(crate) const KEYS: Self = Self(1);
    /// Users by name.
    pub(crate) const USERS: Self = Self(1 << 1);
    /// Users, groups and roles by name (id and path).
    pub(crate) const ENTITIES: Self = Self(1 << 2);
    /// Users' and roles' permissions boundaries.
    pub(crate) const BOUNDARIES: Self = Self(1 << 3);
    /// Pages of ListUsers.
    pub(crate) const USER_PAGES: Self = Self(1 << 4);
    /// S3 buckets.
    const BUCKETS: Self = Self(1 << 5);
    /// S3 object versions.
    const OBJECTS: Self = Self(1 << 6);
    /// Every section: what a write changes unless it says otherwise.
    pub(crate) const ALL: Self = Self((1 << SECTIONS) - 1);

    pub(crate) const fn union(self, other: Self) -> Self {
        Self(self.0 | other.0)
    }

    /// The generation counter of a single section.
    fn index(self) -> usize {
        debug_assert_eq!(self.0.count_ones(), 1, "one section");
        self.0.trailing_zeros() as usize
    }

    /// As a notification carries it.
    pub(crate) fn bits(self) -> u8 {
        self.0
    }

    /// From a notification: every section when it names one this server does not know.
    pub(crate) fn from_bits(bits: u8) -> Self {
        if bits & !Self::ALL.0 == 0 {
            Self(bits)
        } else {
            Self::ALL
        }
    }
}

/// The generation of every section, taken together before a query runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Generation([u64; SECTIONS]);

/// The write generations and the cached lookups.
#[derive(Debug)]
pub(crate) struct ReadCache {
    generations: [AtomicU64; SECTIONS],
    /// On PostgreSQL: whether, and until when, notifications are known to be arriving.
    pub(crate) lease: Option<Lease>,
    pub(crate) keys: Cached<String, KeyWithOwner>,
    pub(crate) users: Cached<(String, String), UserRow>,
    pub(crate) entities: Cached<(String, EntityKind, String), EntityRef>,
    pub(crate) boundaries: Cached<(EntityKind, String), Option<Boundary>>,
    /// ListUsers pages: (account, path prefix, after, page size) → the page.
    pub(crate) user_pages: Cached<UserPageKey, Page<UserRow>>,
    /// S3 buckets by name (`None`: no such bucket), read by every S3 request.
    pub(crate) buckets: Cached<String, Option<BucketRow>>,
    /// S3 object versions: (bucket, key, version asked for, or `None` for the current one).
    pub(crate) objects: Cached<ObjectKey, Option<ObjectRow>>,
}

/// What an S3 object version is looked up by: bucket, key, and the version id asked for
/// (`None`: the key's current version).
pub(crate) type ObjectKey = (String, String, Option<String>);

/// What a page of ListUsers is asked for by: account, path prefix, the name key it starts
/// after, and its size.
pub(crate) type UserPageKey = (String, String, String, usize);

impl Default for ReadCache {
    fn default() -> Self {
        Self {
            generations: Default::default(),
            lease: None,
            keys: Cached::new(Sections::KEYS, CAPACITY),
            users: Cached::new(Sections::USERS, CAPACITY),
            entities: Cached::new(Sections::ENTITIES, CAPACITY),
            boundaries: Cached::new(Sections::BOUNDARIES, CAPACITY),
            user_pages: Cached::new(Sections::USER_PAGES, PAGES),
            buckets: Cached::new(Sections::BUCKETS, CAPACITY),
            objects: Cached::new(Sections::OBJECTS, OBJECTS),
        }
    }
}

/// A user's or role's permissions boundary: its ARN, and its document if it is a
/// customer managed policy.
pub(crate) type Boundary = (String, Option<String>);

impl ReadCache {
    /// A cache for a server sharing its PostgreSQL database: usable only under a lease.
    pub(crate) fn leased() -> Self {
        Self {
            lease: Some(Lease::new()),
            ..Self::default()
        }
    }

    /// The generation to tag a read with: taken before its query runs.
    pub(crate) fn generation(&self) -> Generation {
        Generation(std::array::from_fn(|i| self.generations[i].load(Ordering::Acquire)))
    }

    /// Whether lookups may be answered from memory (and kept) now.
    pub(crate) fn usable(&self) -> bool {
        self.lease.as_ref().is_none_or(Lease::holds)
    }

    /// Lookups answered from memory, and lookups that went to the database, so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        [
            self.keys.counts(),
            self.users.counts(),
            self.entities.counts(),
            self.boundaries.counts(),
            self.user_pages.counts(),
            self.buckets.counts(),
            self.objects.counts(),
        ]
        .iter()
        .fold((0, 0), |(h, m), (hits, misses)| (h + hits, m + misses))
    }

    /// A commit ended: whatever it may have changed, read before it, may be stale.
    pub(crate) fn wrote(&self, changed: Sections) {
        for (i, generation) in self.generations.iter().enumerate() {
            if changed.0 & (1 << i) != 0 {
                generation.fetch_add(1, Ordering::AcqRel);
            }
        }
    }
}

/// How long a renewal of the lease lasts. It is renewed every [`RENEW_EVERY`]; the margin
/// lets a renewal arrive late under load without the cache going cold.
pub(crate) const LEASE: Duration = Duration::from_secs(1);
/// How often a server proves its notification connection current.
pub(crate) const RENEW_EVERY: Duration = Duration::from_millis(100);

/// The right of a PostgreSQL server to answer from memory.
///
/// It is renewed by a notification the server sent itself and received back: PostgreSQL
/// delivers notifications in commit order, so by then every write committed before it was
/// sent has been received and has advanced the generation. It holds for [`LEASE`] from the
/// moment that notification was *sent*. A cache that goes without one for longer (the
/// connection lost, stalled, or cut off without a word) answers nothing from memory, and
/// what it kept from before is dropped when the lease comes back.
#[derive(Debug)]
pub(crate) struct Lease {
    /// What the lease's times count from.
    base: Instant,
    /// Milliseconds since `base` until which the lease holds; 0 when it is lost.
    until_ms: AtomicU64,
    /// Whether a lease was ever taken (the first is no lapse).
    taken: AtomicBool,
    /// Writes of other servers heard of; leases lost and taken again.
    heard: AtomicU64,
    lapses: AtomicU64,
}

impl Lease {
    fn new() -> Self {
        Self::counting_from(Instant::now())
    }

    fn counting_from(base: Instant) -> Self {
        Self {
            base,
            until_ms: AtomicU64::new(0),
            taken: AtomicBool::new(false),
            heard: AtomicU64::new(0),
            lapses: AtomicU64::new(0),
        }
    }

    /// Milliseconds since the lease's base: what a renewal carries, sent and received.
    pub(crate) fn now_ms(&self) -> u64 {
        u64::try_from(self.base.elapsed().as_millis()).unwrap_or(u64::MAX)
    }

    fn holds(&self) -> bool {
        self.now_ms() < self.until_ms.load(Ordering::Acquire)
    }

    /// Writes of other servers heard of, and leases taken again after a lapse.
    pub(crate) fn counts(&self) -> (u64, u64) {
        (self.heard.load(Ordering::Relaxed), self.lapses.load(Ordering::Relaxed))
    }
}

impl ReadCache {
    /// Another server committed a write that may have changed `changed` (or a notification
    /// came that this server cannot read, which is taken as a write of everything).
    pub(crate) fn heard_write(&self, changed: Sections) {
        self.wrote(changed);
        if let Some(lease) = &self.lease {
            lease.heard.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// This server's renewal sent at `sent_ms` came back. After a lapse everything kept
    /// is dropped first: it may predate writes whose notifications never came.
    pub(crate) fn renewed(&self, sent_ms: u64) {
        let Some(lease) = &self.lease else { return };
        let until = sent_ms.saturating_add(LEASE.as_millis() as u64);
        if !lease.holds() {
            self.wrote(Sections::ALL);
            if lease.taken.swap(true, Ordering::Relaxed) {
                lease.lapses.fetch_add(1, Ordering::Relaxed);
            }
        }
        lease.until_ms.fetch_max(until, Ordering::AcqRel);
    }

    /// The notification connection is lost: nothing is answered from memory until a
    /// renewal comes back on a new one.
    pub(crate) fn lost(&self) {
        if let Some(lease) = &self.lease {
            lease.until_ms.store(0, Ordering::Release);
        }
        self.wrote(Sections::ALL);
    }
}

/// One kind of lookup (one section): key → (the section's generation read at, value).
#[derive(Debug)]
pub(crate) struct Cached<K, V> {
    /// Its section: one bit of [`Sections`].
    section: Sections,
    entries: Mutex<HashMap<K, (u64, V)>>,
    /// Entries kept before the map is emptied.
    capacity: usize,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> Cached<K, V> {
    fn new(section: Sections, capacity: usize) -> Self {
        Self {
            section,
            entries: Mutex::new(HashMap::new()),
            capacity,
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }

    fn counts(&self) -> (u64, u64) {
        (self.hits.load(Ordering::Relaxed), self.misses.load(Ordering::Relaxed))
    }
}

impl<K: Eq + Hash, V: Clone> Cached<K, V> {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<K, (u64, V)>> {
        // The map holds only copies of rows: a panic elsewhere cannot leave it wrong.
        self.entries.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// The value read for `key` at `generation`, if it was read then.
    pub(crate) fn get<Q>(&self, key: &Q, generation: Generation) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let generation = generation.0[self.section.index()];
        let found = match self.lock().get(key) {
            Some((read_at, value)) if *read_at == generation => Some(value.clone()),
            _ => None,
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `value`, read by a query that began at `generation`.
    pub(crate) fn put(&self, key: K, generation: Generation, value: V) {
        let generation = generation.0[self.section.index()];
        let mut entries = self.lock();
        if entries.len() >= self.capacity {
            entries.clear();
        }
        entries.insert(key, (generation, value));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A leased cache whose lease counts from `ago` before now.
    fn leased_since(ago: Duration) -> ReadCache {
        let base = Instant::now().checked_sub(ago).expect("the clock goes back that far");
        ReadCache {
            lease: Some(Lease::counting_from(base)),
            ..ReadCache::default()
        }
    }

    #[test]
    fn without_a_lease_nothing_is_answered_from_memory() {
        let cache = ReadCache::leased();
        assert!(!cache.usable(), "no renewal has come back yet");
        let now = cache.lease.as_ref().unwrap().now_ms();
        cache.renewed(now);
        assert!(cache.usable());
        cache.lost();
        assert!(!cache.usable(), "a lost connection ends the lease at once");
    }

    #[test]
    fn a_lease_runs_out_when_no_renewal_comes_back() {
        // A renewal sent five seconds ago proves nothing about the last four.
        let cache = leased_since(Duration::from_secs(5));
        cache.renewed(0);
        assert!(!cache.usable());
        let sent = cache.lease.as_ref().unwrap().now_ms() - 200;
        cache.renewed(sent);
        assert!(cache.usable(), "a renewal sent 200 ms ago holds");
    }

    #[test]
    fn what_was_kept_before_a_lapse_is_dropped_when_the_lease_comes_back() {
        let cache = leased_since(Duration::from_secs(5));
        let now = || cache.lease.as_ref().unwrap().now_ms();
        cache.renewed(now());
        let generation = cache.generation();
        cache.keys.put("k".into(), generation, key_row());
        assert!(cache.keys.get("k", cache.generation()).is_some());
        // Renewed while it holds: what was kept stays.
        cache.renewed(now());
        assert!(cache.keys.get("k", cache.generation()).is_some());
        assert_eq!(cache.lease.as_ref().unwrap().counts().1, 0, "no lapse yet");
        // Lost, then taken again: dropped, and counted.
        cache.lost();
        cache.renewed(now());
        assert!(cache.keys.get("k", cache.generation()).is_none());
        assert_eq!(cache.lease.as_ref().unwrap().counts().1, 1);
        // Run out (a stalled connection), then taken again: dropped too.
        let generation = cache.generation();
        cache.keys.put("k".into(), generation, key_row());
        cache.lease.as_ref().unwrap().until_ms.store(1, Ordering::Release);
        cache.renewed(now());
        assert!(cache.keys.get("k", cache.generation()).is_none());
    }

    #[test]
    fn another_servers_write_drops_what_was_kept() {
        let cache = ReadCache::leased();
        cache.renewed(cache.lease.as_ref().unwrap().now_ms());
        cache.keys.put("k".into(), cache.generation(), key_row());
        cache.heard_write(Sections::ALL);
        assert!(cache.keys.get("k", cache.generation()).is_none());
        assert_eq!(cache.lease.as_ref().unwrap().counts().0, 1);
    }

    #[test]
    fn a_write_drops_the_sections_it_may_have_changed_and_keeps_the_rest() {
        let cache = ReadCache::default();
        let entity = || EntityRef {
            account_id: "123456789012".into(),
            kind: EntityKind::User,
            id: "AIDA".into(),
            name: "u".into(),
            path: "/".into(),
        };
        let entity_key = || ("123456789012".to_owned(), EntityKind::User, "u".to_owned());
        let generation = cache.generation();
        cache.keys.put("k".into(), generation, key_row());
        cache.entities.put(entity_key(), generation, entity());
        cache.wrote(Sections::NONE);
        assert!(cache.keys.get("k", cache.generation()).is_some());
        cache.wrote(Sections::KEYS);
        assert!(cache.keys.get("k", cache.generation()).is_none(), "keys changed");
        assert!(
            cache.entities.get(&entity_key(), cache.generation()).is_some(),
            "entities did not"
        );
        cache.wrote(Sections::ALL);
        assert!(cache.entities.get(&entity_key(), cache.generation()).is_none());
        // Every section has a bit of its own, and `ALL` is all of them.
        let each = [
            Sections::KEYS,
            Sections::USERS,
            Sections::ENTITIES,
            Sections::BOUNDARIES,
            Sections::USER_PAGES,
            Sections::BUCKETS,
            Sections::OBJECTS,
        ];
        assert_eq!(each.iter().fold(Sections::NONE, |all, s| all.union(*s)), Sections::ALL);
        assert_eq!(each.map(Sections::index), [0, 1, 2, 3, 4, 5, 6]);
        // A notification naming a section this server does not know drops everything.
        assert_eq!(Sections::from_bits(Sections::KEYS.bits()), Sections::KEYS);
        assert_eq!(Sections::from_bits(1 << 7), Sections::ALL);
    }

    fn key_row() -> KeyWithOwner {
        KeyWithOwner {
            key: crate::AccessKeyRow {
                access_key_id: "k".into(),
                account_id: "123456789012".into(),
                user_id: None,
                secret_sealed: String::new(),
                status: "Active".into(),
                created_at: 0,
                last_used: None,
            },
            user: None,
            policy_epoch: 0,
        }
    }
}
