//! The one clock of a server.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

/// The server's clock, the one every service reads (IAM, STS and S3 alike): system time
/// plus an offset that tests move forward to see what happens later (credentials expiring)
/// without waiting. Production never sets it.
#[derive(Debug, Clone, Default)]
pub struct Clock {
    offset: Arc<std::sync::atomic::AtomicI64>,
}

impl Clock {
    /// Unix seconds now.
    pub fn now(&self) -> i64 {
        let system = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| d.as_secs() as i64);
        system + self.offset.load(std::sync::atomic::Ordering::Relaxed)
    }

    /// Moves the clock forward by `seconds`.
    pub fn advance(&self, seconds: i64) {
        self.offset.fetch_add(seconds, std::sync::atomic::Ordering::Relaxed);
    }
}
