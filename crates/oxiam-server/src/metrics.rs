//! Metrics, in Prometheus's text format at `/_oxiam/metrics`: from the request records,
//! requests by service, operation, decision and status, and their latency by service; from
//! the front door, connections open and refused; from the store, its pool, its read cache
//! and its group commits.
//! Every label value is one oxiam chose (an operation of a service, never text a client
//! sent), so the number of series is bounded.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

use oxiam_core::record::{RecordSink, RequestRecord};

/// Upper bounds of the latency buckets, in seconds.
const BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5,
];

/// A request's labels but its operation: service, decision, status.
type Labels = (&'static str, &'static str, u16);

#[derive(Debug, Default)]
struct Latency {
    /// Requests at or under each bound of `BUCKETS`.
    buckets: Vec<u64>,
    count: u64,
    sum_us: u64,
}

/// The counters.
#[derive(Debug, Default)]
pub struct Metrics {
    /// By labels, then by operation: a request already counted allocates nothing.
    requests: Mutex<BTreeMap<Labels, BTreeMap<String, u64>>>,
    latency: Mutex<BTreeMap<&'static str, Latency>>,
    /// Connections open now.
    pub(crate) connections_open: AtomicU64,
    /// Connections closed at once because the cap was reached.
    pub(crate) connections_refused: AtomicU64,
}

impl Metrics {
    /// Everything counted so far, and the store's state, in Prometheus's text exposition
    /// format.
    pub fn render(&self, store: &oxiam_store::StoreStats) -> String {
        let mut out = String::new();
        let gauge = |out: &mut String, name: &str, kind: &str, help: &str, value: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        };
        gauge(
            &mut out,
            "oxiam_connections_open",
            "gauge",
            "Connections open now.",
            self.connections_open.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "oxiam_connections_refused_total",
            "counter",
            "Connections closed at once: the cap on open connections was reached.",
            self.connections_refused.load(Ordering::Relaxed),
        );
        gauge(
            &mut out,
            "oxiam_db_pool_connections",
            "gauge",
            "Database connections the pool holds.",
            u64::from(store.pool_connections),
        );
        gauge(
            &mut out,
            "oxiam_db_pool_idle_connections",
            "gauge",
            "Database connections of the pool that are idle.",
            store.pool_idle as u64,
        );
        if let Some((hits, misses)) = store.cache {
            out.push_str("# HELP oxiam_read_cache_lookups_total Lookups of keys, users, entities and boundaries: answered from memory (hit) or by a query (miss).\n");
            out.push_str("# TYPE oxiam_read_cache_lookups_total counter\n");
            let _ = writeln!(out, "oxiam_read_cache_lookups_total{{result=\"hit\"}} {hits}");
            let _ = writeln!(out, "oxiam_read_cache_lookups_total{{result=\"miss\"}} {misses}");
        }
        if let Some(replication) = &store.replication {
            gauge(
                &mut out,
                "oxiam_read_cache_lease",
                "gauge",
                "PostgreSQL: 1 while this server has proved, within the last second, that it has heard of every other server's write committed before then (and answers from memory); 0 otherwise.",
                u64::from(replication.lease_holds),
            );
            gauge(
                &mut out,
                "oxiam_replication_writes_heard_total",
                "counter",
                "PostgreSQL: writes of other servers sharing the database heard of (each empties this server's read cache).",
                replication.writes_heard,
            );
            gauge(
                &mut out,
                "oxiam_read_cache_lease_lapses_total",
                "counter",
                "PostgreSQL: read-cache leases taken again after a lapse (the notification connection lost or stalled).",
                replication.lease_lapses,
            );
        }
        if let Some(batches) = &store.batches {
            out.push_str("# HELP oxiam_group_commit_writes Writes per group commit (writes that arrive together share one transaction and one flush).\n");
            out.push_str("# TYPE oxiam_group_commit_writes histogram\n");
            for (bound, n) in oxiam_store::BATCH_SIZE_BOUNDS.iter().zip(&batches.buckets) {
                let _ = writeln!(out, "oxiam_group_commit_writes_bucket{{le=\"{bound}\"}} {n}");
            }
            let _ = writeln!(
                out,
                "oxiam_group_commit_writes_bucket{{le=\"+Inf\"}} {}",
                batches.batches
            );
            let _ = writeln!(out, "oxiam_group_commit_writes_sum {}", batches.writes);
            let _ = writeln!(out, "oxiam_group_commit_writes_count {}", batches.batches);
        }
        out.push_str("# HELP oxiam_requests_total Requests answered, by service, operation, decision and status.\n");
        out.push_str("# TYPE oxiam_requests_total counter\n");
        for ((service, decision, status), operations) in lock(&self.requests).iter() {
            for (operation, n) in operations {
                let _ = writeln!(
                    out,
                    "oxiam_requests_total{{service=\"{service}\",operation=\"{operation}\",decision=\"{decision}\",status=\"{status}\"}} {n}"
                );
            }
        }
        out.push_str("# HELP oxiam_request_duration_seconds Time from a request's arrival to its answer.\n");
        out.push_str("# TYPE oxiam_request_duration_seconds histogram\n");
        for (service, latency) in lock(&self.latency).iter() {
            for (bound, n) in BUCKETS.iter().zip(&latency.buckets) {
                let _ = writeln!(
                    out,
                    "oxiam_request_duration_seconds_bucket{{service=\"{service}\",le=\"{bound}\"}} {n}"
                );
            }
            let _ = writeln!(
                out,
                "oxiam_request_duration_seconds_bucket{{service=\"{service}\",le=\"+Inf\"}} {}",
                latency.count
            );
            let _ = writeln!(
                out,
                "oxiam_request_duration_seconds_sum{{service=\"{service}\"}} {}",
                latency.sum_us as f64 / 1e6
            );
            let _ = writeln!(
                out,
                "oxiam_request_duration_seconds_count{{service=\"{service}\"}} {}",
                latency.count
            );
        }
        out
    }
}

fn lock<T>(m: &Mutex<T>) -> std::sync::MutexGuard<'_, T> {
    m.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

impl RecordSink for Metrics {
    fn record(&self, r: &RequestRecord) {
        let service = if r.service.is_empty() { "unknown" } else { r.service };
        let decision = r.decision().map_or("none", |v| v.outcome.as_str());
        let operation = r.operation.as_deref().unwrap_or("unknown");
        let mut requests = lock(&self.requests);
        let operations = requests.entry((service, decision, r.status)).or_default();
        match operations.get_mut(operation) {
            Some(n) => *n += 1,
            None => {
                operations.insert(operation.to_owned(), 1);
            }
        }
        drop(requests);
        let mut latency = lock(&self.latency);
        let l = latency.entry(service).or_default();
        if l.buckets.is_empty() {
            l.buckets = vec![0; BUCKETS.len()];
        }
        let seconds = r.latency_us as f64 / 1e6;
        for (bound, n) in BUCKETS.iter().zip(l.buckets.iter_mut()) {
            if seconds <= *bound {
                *n += 1;
            }
        }
        l.count += 1;
        l.sum_us += r.latency_us;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_and_buckets() {
        let metrics = Metrics::default();
        let mut r = RequestRecord {
            service: "iam",
            operation: Some("GetUser".into()),
            status: 200,
            latency_us: 700,
            ..RequestRecord::default()
        };
        metrics.record(&r);
        r.latency_us = 30_000;
        metrics.record(&r);
        let store = oxiam_store::StoreStats {
            pool_connections: 2,
            pool_idle: 1,
            cache: Some((5, 3)),
            replication: Some(oxiam_store::ReplicationStats {
                lease_holds: true,
                writes_heard: 4,
                lease_lapses: 1,
            }),
            batches: Some(oxiam_store::BatchStats {
                buckets: vec![1, 2, 2, 2, 2, 2, 2, 2],
                batches: 2,
                writes: 3,
            }),
        };
        let text = metrics.render(&store);
        for line in [
            "oxiam_db_pool_connections 2",
            r#"oxiam_read_cache_lookups_total{result="hit"} 5"#,
            r#"oxiam_group_commit_writes_bucket{le="1"} 1"#,
            r#"oxiam_group_commit_writes_bucket{le="+Inf"} 2"#,
            "oxiam_group_commit_writes_sum 3",
            "oxiam_read_cache_lease 1",
            "oxiam_replication_writes_heard_total 4",
            "oxiam_read_cache_lease_lapses_total 1",
        ] {
            assert!(text.contains(line), "{line} in\n{text}");
        }
        assert!(
            text.contains(r#"oxiam_requests_total{service="iam",operation="GetUser",decision="none",status="200"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"oxiam_request_duration_seconds_bucket{service="iam",le="0.001"} 1"#),
            "{text}"
        );
        assert!(
            text.contains(r#"oxiam_request_duration_seconds_bucket{service="iam",le="0.05"} 2"#),
            "{text}"
        );
        assert!(
            text.contains(r#"oxiam_request_duration_seconds_count{service="iam"} 2"#),
            "{text}"
        );
    }
}
