//! Reads answered from memory on SQLite, where this process is the database's only writer.
//!
//! Every request looks its access key up, and most look up a user or its path; on SQLite
//! each query is a round trip to the connection's worker thread, which costs more than the
//! query. So the rows those lookups return are kept here, each tagged with the *write
//! generation* current when its query began. Every commit (successful or not) advances the
//! generation before it is acknowledged, and an entry is used only while the generation is
//! still the one it was read at. A read therefore never returns anything older than the
//! last acknowledged write: a cached row is one that no write has come after.
//!
//! That holds only if every write goes through this process, which the lock file next to
//! the database guarantees (see `Store::open`). On PostgreSQL, where other servers write
//! too, nothing is cached.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::{EntityKind, EntityRef, KeyWithOwner, UserRow};

/// Entries kept per kind of lookup before the map is emptied (a bound, not an eviction
/// policy: the working set of a server is its active keys and users).
const CAPACITY: usize = 16_384;

/// The write generation and the cached lookups.
#[derive(Debug, Default)]
pub(crate) struct ReadCache {
    generation: AtomicU64,
    pub(crate) keys: Cached<String, KeyWithOwner>,
    pub(crate) users: Cached<(String, String), UserRow>,
    pub(crate) entities: Cached<(String, EntityKind, String), EntityRef>,
    pub(crate) boundaries: Cached<(EntityKind, String), Option<Boundary>>,
}

/// A user's or role's permissions boundary: its ARN, and its document if it is a
/// customer managed policy.
pub(crate) type Boundary = (String, Option<String>);

impl ReadCache {
    /// The generation to tag a read with: taken before its query runs.
    pub(crate) fn generation(&self) -> u64 {
        self.generation.load(Ordering::Acquire)
    }

    /// Lookups answered from memory, and lookups that went to the database, so far.
    pub(crate) fn counts(&self) -> (u64, u64) {
        [
            self.keys.counts(),
            self.users.counts(),
            self.entities.counts(),
            self.boundaries.counts(),
        ]
        .iter()
        .fold((0, 0), |(h, m), (hits, misses)| (h + hits, m + misses))
    }

    /// A commit ended: everything read before it may be stale.
    pub(crate) fn wrote(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
    }
}

/// One kind of lookup: key → (generation read at, value).
#[derive(Debug)]
pub(crate) struct Cached<K, V> {
    entries: Mutex<HashMap<K, (u64, V)>>,
    hits: AtomicU64,
    misses: AtomicU64,
}

impl<K, V> Default for Cached<K, V> {
    fn default() -> Self {
        Self {
            entries: Mutex::new(HashMap::new()),
            hits: AtomicU64::new(0),
            misses: AtomicU64::new(0),
        }
    }
}

impl<K, V> Cached<K, V> {
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
    pub(crate) fn get<Q>(&self, key: &Q, generation: u64) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let found = match self.lock().get(key) {
            Some((read_at, value)) if *read_at == generation => Some(value.clone()),
            _ => None,
        };
        let counter = if found.is_some() { &self.hits } else { &self.misses };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Keeps `value`, read by a query that began at `generation`.
    pub(crate) fn put(&self, key: K, generation: u64, value: V) {
        let mut entries = self.lock();
        if entries.len() >= CAPACITY {
            entries.clear();
        }
        entries.insert(key, (generation, value));
    }
}
