//! Servers sharing one PostgreSQL database tell each other of their writes.
//!
//! Each server keeps a read cache (`cache.rs`) that any commit, on any server, must
//! invalidate. Every write batch (`write.rs`) therefore sends a notification on [`CHANNEL`]
//! before it commits: PostgreSQL delivers it to every listening server if, and only if, the write
//! commits, in commit order, and a commit whose notification cannot be queued fails. Each
//! server listens on a connection of its own and advances its cache's generation for every
//! other server's write it hears of.
//!
//! Hearing nothing is no proof that nothing was written: the connection may be lost, or cut
//! off without a word. So the listener also sends itself a notification every
//! [`RENEW_EVERY`], stamped with when it was sent; when it comes back, every write committed
//! before that moment has been heard of, and the cache's lease is renewed from it
//! (`cache::Lease`). A lost connection ends the lease at once; a silent one lets it run out.
//! Either way the server queries for everything until a renewal comes back on a connection
//! that works.
//!
//! Payloads: `write ORIGIN N SECTIONS` (the Nth commit of server ORIGIN, which may have
//! changed the cache's SECTIONS, a bit set: `cache::Sections`; without them, as older
//! servers send it, everything) and `renew ORIGIN MS` (a renewal sent MS milliseconds after
//! the origin's lease began counting).

use std::str::FromStr as _;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;

use sqlx::ConnectOptions as _;
use sqlx::postgres::{PgConnectOptions, PgListener, PgPoolOptions};

use crate::StoreError;
use crate::cache::{LEASE, RENEW_EVERY, ReadCache, Sections};

/// The channel every server's writes are announced on.
pub(crate) const CHANNEL: &str = "oxiam_writes";

/// The `application_name` of the listening connection (how an operator, or a test, finds it
/// in `pg_stat_activity`).
pub const LISTENER_APPLICATION_NAME: &str = "oxiam-listener";

/// How long a lost listener waits before connecting again, at first and at most.
const RETRY_FIRST: Duration = Duration::from_millis(50);
const RETRY_MOST: Duration = Duration::from_secs(2);

/// This server, as its notifications name it.
#[derive(Debug)]
pub(crate) struct Origin {
    /// Random, drawn at start: servers are told apart, restarts too.
    id: String,
    /// Commits announced so far: each announcement carries its number.
    writes: AtomicU64,
}

impl Origin {
    pub(crate) fn new() -> Self {
        use std::hash::BuildHasher as _;
        // std's per-map random keys: different for every call, and every process.
        let random = std::collections::hash_map::RandomState::new().hash_one(std::process::id());
        Self {
            id: format!("{random:016x}"),
            writes: AtomicU64::new(0),
        }
    }

    /// The payload announcing this server's next commit, which may change `changed`.
    pub(crate) fn next_write(&self, changed: Sections) -> String {
        let n = self.writes.fetch_add(1, Ordering::Relaxed) + 1;
        format!("write {} {n} {}", self.id, changed.bits())
    }

    fn renewal(&self, sent_ms: u64) -> String {
        format!("renew {} {sent_ms}", self.id)
    }
}

/// What a notification says, to the server that hears it.
#[derive(Debug, PartialEq, Eq)]
enum Heard {
    /// Another server wrote, and may have changed these sections; an unreadable payload
    /// is taken as a write of everything, to be safe.
    OthersWrite(Sections),
    /// This server's own write: its cache advanced when it committed.
    OwnWrite,
    /// This server's renewal, sent at that time.
    OwnRenewal(u64),
    /// Another server's renewal: nothing to do.
    OthersRenewal,
}

fn read(payload: &str, origin: &str) -> Heard {
    let mut words = payload.split(' ');
    match (words.next(), words.next(), words.next(), words.next(), words.next()) {
        (Some("write"), Some(from), Some(_), Some(_), None) if from == origin => Heard::OwnWrite,
        // Without its sections (a server of an older release), a write of everything.
        (Some("write"), Some(_), Some(_), changed, None) => Heard::OthersWrite(
            changed
                .and_then(|bits| bits.parse().ok())
                .map_or(Sections::ALL, Sections::from_bits),
        ),
        (Some("renew"), Some(from), Some(ms), None, None) if from == origin => match ms.parse() {
            Ok(ms) => Heard::OwnRenewal(ms),
            Err(_) => Heard::OthersWrite(Sections::ALL),
        },
        (Some("renew"), Some(_), Some(_), None, None) => Heard::OthersRenewal,
        _ => Heard::OthersWrite(Sections::ALL),
    }
}

/// Starts listening for the writes of the servers sharing the database at `url`, for as
/// long as `cache` is alive.
pub(crate) fn listen(url: &str, cache: &Arc<ReadCache>, origin: Arc<Origin>) -> Result<(), StoreError> {
    let options = PgConnectOptions::from_str(url)?
        .application_name(LISTENER_APPLICATION_NAME)
        .disable_statement_logging();
    let cache = Arc::downgrade(cache);
    tokio::spawn(async move {
        let mut retry = RETRY_FIRST;
        loop {
            let began = tokio::time::Instant::now();
            let ended = listen_once(&options, &cache, &origin).await;
            let Some(live) = cache.upgrade() else { return };
            live.lost();
            drop(live);
            match ended {
                Ok(()) => return,
                Err(e) => tracing::warn!(
                    error = %e,
                    "the connection hearing other servers' writes is lost; answering from the database until it is back"
                ),
            }
            // Waits double while connecting fails, and start over after a connection that lasted.
            if began.elapsed() > RETRY_MOST {
                retry = RETRY_FIRST;
            }
            tokio::time::sleep(retry).await;
            retry = (retry * 2).min(RETRY_MOST);
        }
    });
    Ok(())
}

/// One connection's life: listens, renews, and applies what it hears until it fails.
/// `Ok` when the store is gone.
async fn listen_once(options: &PgConnectOptions, cache: &Weak<ReadCache>, origin: &Origin) -> Result<(), sqlx::Error> {
    let pool = PgPoolOptions::new()
        .max_connections(1)
        .idle_timeout(None)
        .max_lifetime(None)
        .acquire_timeout(Duration::from_secs(5))
        .connect_with(options.clone())
        .await?;
    let mut listener = PgListener::connect_with(&pool).await?;
    // A lost connection must end this life (and the lease), not be quietly replaced.
    listener.eager_reconnect(false);
    listener.listen(CHANNEL).await?;
    let mut renew_at = tokio::time::Instant::now();
    // The latest renewal sent on this connection: one claiming a later time is forged (any
    // database user may NOTIFY), and is not honoured.
    let mut latest_sent = 0;
    // When a renewal last came back: a connection that stays open but stops delivering is
    // given up after two leases (the lease itself ran out after one).
    let mut heard_back = tokio::time::Instant::now();
    loop {
        let now = tokio::time::Instant::now();
        if now.duration_since(heard_back) > 2 * LEASE {
            return Err(sqlx::Error::Protocol("no renewal came back for two leases".into()));
        }
        if now >= renew_at {
            let Some(live) = cache.upgrade() else { return Ok(()) };
            latest_sent = live.lease.as_ref().map_or(0, |l| l.now_ms());
            drop(live);
            let renewal = sqlx::query("SELECT pg_notify($1, $2)")
                .bind(CHANNEL)
                .bind(origin.renewal(latest_sent))
                .execute(&mut listener);
            // A dead peer the kernel has not noticed yet would hold this for many minutes.
            match tokio::time::timeout(LEASE, renewal).await {
                Ok(sent) => sent?,
                Err(_) => return Err(sqlx::Error::Protocol("a renewal was not sent within a lease".into())),
            };
            renew_at = now + RENEW_EVERY;
        }
        // `try_recv` is cancel-safe: a message half read stays in the buffer.
        let Ok(received) = tokio::time::timeout_at(renew_at, listener.try_recv()).await else {
            continue;
        };
        let Some(notification) = received? else {
            return Err(sqlx::Error::Protocol("the listening connection closed".into()));
        };
        let Some(live) = cache.upgrade() else { return Ok(()) };
        match read(notification.payload(), &origin.id) {
            Heard::OthersWrite(changed) => live.heard_write(changed),
            Heard::OwnRenewal(sent_ms) if sent_ms <= latest_sent => {
                heard_back = tokio::time::Instant::now();
                live.renewed(sent_ms);
            }
            Heard::OwnRenewal(_) => {
                tracing::warn!(payload = notification.payload(), "a renewal this server did not send");
            }
            Heard::OwnWrite | Heard::OthersRenewal => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn payloads_read_as_written() {
        let origin = Origin::new();
        let other = Origin::new();
        assert_eq!(read(&origin.next_write(Sections::ALL), &origin.id), Heard::OwnWrite);
        assert_eq!(
            read(&other.next_write(Sections::KEYS), &origin.id),
            Heard::OthersWrite(Sections::KEYS)
        );
        assert_eq!(
            read(&other.next_write(Sections::NONE), &origin.id),
            Heard::OthersWrite(Sections::NONE)
        );
        assert_eq!(read(&origin.renewal(1234), &origin.id), Heard::OwnRenewal(1234));
        assert_eq!(read(&other.renewal(1234), &origin.id), Heard::OthersRenewal);
        assert!(origin.next_write(Sections::ALL).contains(" 2 "), "writes are numbered");
        // An older server's payload, without sections: a write of everything.
        assert_eq!(read("write abc 7", &origin.id), Heard::OthersWrite(Sections::ALL));
    }

    #[test]
    fn what_cannot_be_read_counts_as_a_write() {
        let origin = Origin::new();
        for payload in [
            "",
            "write",
            "renew x",
            &format!("renew {} soon", origin.id),
            "write a 1 extra",
            "write a 1 999",
            "write a 1 3 more",
            "hello",
        ] {
            assert_eq!(
                read(payload, &origin.id),
                Heard::OthersWrite(Sections::ALL),
                "{payload:?}"
            );
        }
    }
}
