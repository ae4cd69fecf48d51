//! N concurrent clients running one phase (one operation, or the mix) for a time or a count,
//! and the statistics of the samples they collect (sorted samples, nearest rank). With
//! `BENCH_SLOW_TIMELINE` set, a phase also prints when its samples above the p99 ended: by
//! tenth of each second (a periodic stall shows as one tenth), and the busiest 10 ms windows
//! (every client slow at once is a stall of the whole server or machine).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};

use tokio::task::JoinSet;

use crate::ops::{self, Ctx, Op, Sample};

#[derive(Clone, Copy)]
pub enum Limit {
    /// Measure for this long (after the warm-up).
    Time(Duration),
    /// Measure this many iterations in all (after the warm-up).
    Count(u64),
}

#[derive(Clone, Copy, PartialEq, Eq)]
pub enum Who {
    Root,
    User,
}

impl Who {
    pub fn name(self) -> &'static str {
        match self {
            Who::Root => "root",
            Who::User => "user",
        }
    }
}

/// One row: a request of a phase, as one identity.
pub struct Row {
    pub phase: String,
    pub who: Who,
    pub request: &'static str,
    pub count: u64,
    pub errors: u64,
    pub seconds: f64,
    pub rps: f64,
    pub p50: u64,
    pub p90: u64,
    pub p99: u64,
    pub max: u64,
    pub first_error: Option<String>,
}

impl Row {
    pub fn to_json(&self) -> serde_json::Value {
        serde_json::json!({
            "phase": self.phase, "as": self.who.name(), "request": self.request,
            "count": self.count, "errors": self.errors, "seconds": self.seconds, "rps": self.rps,
            "p50_us": self.p50, "p90_us": self.p90, "p99_us": self.p99, "max_us": self.max,
            "first_error": self.first_error,
        })
    }
}

fn percentile(sorted: &[u64], p: f64) -> u64 {
    if sorted.is_empty() {
        return 0;
    }
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

/// Runs `phase` (its operations in turn, each client starting at a different one) with
/// `clients` concurrent clients signing with `who`'s key.
pub async fn run_phase(
    ctx: Arc<Ctx>,
    name: &str,
    phase: &[Op],
    who: Who,
    clients: usize,
    limit: Limit,
    warmup: Duration,
) -> Vec<Row> {
    let phase: Arc<Vec<Op>> = Arc::new(phase.to_vec());
    let start = Instant::now();
    let measure_from = start + warmup;
    let budget = Arc::new(AtomicI64::new(match limit {
        Limit::Count(n) => n as i64,
        Limit::Time(_) => i64::MAX,
    }));
    let mut tasks = JoinSet::new();
    for client in 0..clients {
        let (ctx, phase, budget) = (ctx.clone(), phase.clone(), budget.clone());
        tasks.spawn(async move {
            let key = match who {
                Who::Root => ctx.root.clone(),
                Who::User => ctx.user.clone(),
            };
            let mut connection = ctx.endpoint.connection();
            let mut kept: Vec<Sample> = Vec::with_capacity(4096);
            let mut scratch = Vec::with_capacity(2);
            let mut n = 0u64;
            loop {
                let now = Instant::now();
                let measuring = now >= measure_from;
                if measuring {
                    match limit {
                        Limit::Time(d) if now >= measure_from + d => break,
                        Limit::Count(_) if budget.fetch_sub(1, Ordering::Relaxed) <= 0 => break,
                        _ => {}
                    }
                }
                let op = phase[(client + n as usize) % phase.len()];
                ops::run(&ctx, &mut connection, &key, op, client, n, &mut scratch).await;
                n += 1;
                if measuring {
                    kept.append(&mut scratch);
                } else {
                    scratch.clear();
                }
            }
            (kept, Instant::now())
        });
    }
    let mut by_request: BTreeMap<&'static str, (Vec<u64>, u64, Option<String>)> = BTreeMap::new();
    // (microseconds from the start of the measurement to its end, microseconds it took)
    let mut timeline: Option<Vec<(u64, u64)>> = std::env::var_os("BENCH_SLOW_TIMELINE").map(|_| Vec::new());
    let mut end = measure_from;
    while let Some(done) = tasks.join_next().await {
        let (samples, finished) = done.expect("a client panicked");
        end = end.max(finished);
        for sample in samples {
            let entry = by_request.entry(sample.request).or_default();
            match sample.failure {
                None => {
                    entry.0.push(sample.micros);
                    if let Some(timeline) = &mut timeline {
                        let at = sample.at.saturating_duration_since(measure_from);
                        timeline.push((at.as_micros() as u64, sample.micros));
                    }
                }
                Some(failure) => {
                    entry.1 += 1;
                    entry.2.get_or_insert(failure);
                }
            }
        }
    }
    let seconds = end.saturating_duration_since(measure_from).as_secs_f64().max(1e-9);
    if let Some(timeline) = &timeline {
        print_slow_timeline(name, timeline);
    }
    by_request
        .into_iter()
        .map(|(request, (mut micros, errors, first_error))| {
            micros.sort_unstable();
            Row {
                phase: name.to_owned(),
                who,
                request,
                count: micros.len() as u64,
                errors,
                seconds,
                rps: micros.len() as f64 / seconds,
                p50: percentile(&micros, 50.0),
                p90: percentile(&micros, 90.0),
                p99: percentile(&micros, 99.0),
                max: micros.last().copied().unwrap_or(0),
                first_error,
            }
        })
        .collect()
}

/// When the phase's samples above its p99 (all its requests together) ended.
fn print_slow_timeline(phase: &str, timeline: &[(u64, u64)]) {
    let mut sorted: Vec<u64> = timeline.iter().map(|&(_, micros)| micros).collect();
    sorted.sort_unstable();
    let p99 = percentile(&sorted, 99.0);
    let mut by_tenth = [0u64; 10];
    let mut by_window = BTreeMap::<u64, u64>::new();
    for &(at, _) in timeline.iter().filter(|&&(_, micros)| micros > p99) {
        by_tenth[(at / 100_000 % 10) as usize] += 1;
        *by_window.entry(at / 10_000 * 10).or_default() += 1;
    }
    let mut busiest: Vec<(u64, u64)> = by_window.into_iter().collect();
    busiest.sort_by_key(|&(_, n)| std::cmp::Reverse(n));
    busiest.truncate(12);
    eprintln!(
        "  {phase}: slow (> p99 {p99} us) by tenth of each second: {by_tenth:?}; busiest 10 ms windows (start ms, count): {busiest:?}"
    );
}

pub fn ms(micros: u64) -> String {
    format!("{:.2}", micros as f64 / 1000.0)
}

pub fn print_row(row: &Row) {
    eprintln!(
        "  {:<34} {:<18} {:<4} {:>9.0}/s  n={:<8} err={:<5} p50 {:>7} p90 {:>7} p99 {:>7} max {:>8} ms",
        row.phase,
        row.request,
        row.who.name(),
        row.rps,
        row.count,
        row.errors,
        ms(row.p50),
        ms(row.p90),
        ms(row.p99),
        ms(row.max)
    );
    if let Some(error) = &row.first_error {
        let short: String = error.chars().take(300).collect();
        eprintln!("    first error: {short}");
    }
}

#[cfg(test)]
mod tests {
    use super::percentile;

    #[test]
    fn nearest_rank_percentiles() {
        let v: Vec<u64> = (1..=100).collect();
        assert_eq!(percentile(&v, 50.0), 50);
        assert_eq!(percentile(&v, 99.0), 99);
        assert_eq!(percentile(&v, 100.0), 100);
        assert_eq!(percentile(&[7], 99.0), 7);
        assert_eq!(percentile(&[], 50.0), 0);
    }
}
