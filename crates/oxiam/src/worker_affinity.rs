//! Each async worker of `oxiam serve` on a CPU of its own, when the runtime has one worker
//! per CPU the process may run on (`--pin-workers auto`, the default).
//!
//! Why: on a machine whose cores the server shares with busy callers (a CI runner's tests, a
//! load generator), the scheduler at times runs both of two workers on one core, and the
//! requests queued on the one waiting for its turn wait a whole time slice. Pinned, each core
//! has one worker, and the scheduler no longer stacks them. On two cores shared with a load
//! generator, GetUser's p99 at 64 clients was shorter in every run (docs/benchmarks.md,
//! 2026-12-06 (late evening)); with a third busy thread it stays as long, or a little longer.
//!
//! The pin follows the worker's index, not a thread: `block_in_place` (the server's policy
//! checks) hands a worker's place to another thread. So a thread about to park as worker `i`
//! pins itself to the `i`-th CPU, unless it already holds that place, and gives the thread
//! that was worker `i` before it every CPU back: that one now runs blocking work, which the
//! pin would crowd onto one core. Until the new holder parks (when it first runs out of
//! work), the old one keeps its CPU and the new one runs wherever the scheduler puts it.
//!
//! A thread is born with its creator's CPUs, so a thread a pinned worker starts would be
//! pinned too: the runtime's own (its blocking pool) take every CPU back as they start, and
//! the others (a SQLite connection's thread, opened from a request) are found and given them
//! back once a second. No thread but a worker stays on one CPU, except one that has handed
//! its place over, until the new holder parks. An exiting thread gives its place up, so that
//! its id, reused, is never touched.
//!
//! The CPUs are the process's when the first worker parks (at start), and a pin is only ever
//! to a CPU the process may still run on: an operator's `taskset -a -p` later wins, and a
//! worker that found its CPU taken away stays unpinned (even if the CPU comes back).

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Arc, Mutex, OnceLock};

use rustix::process::Pid;
use rustix::thread::{CpuSet, gettid, sched_getaffinity, sched_setaffinity};

/// The CPUs the workers are pinned to, and which thread holds each worker's place.
pub struct WorkerCpus {
    /// The process's CPUs at the start, in order: worker `i` runs on `cpus[i]`.
    cpus: Vec<usize>,
    /// The thread id pinned as each worker (0: none yet).
    holders: Vec<AtomicI32>,
    /// Places change hands one at a time (rarely: at start, and after `block_in_place`).
    handover: Mutex<()>,
}

impl WorkerCpus {
    /// The plan for a runtime of `workers` workers: one CPU each when the process may run on
    /// exactly that many CPUs, else none (a worker count other than the CPUs', as the default
    /// count is under a CPU quota below the CPUs visible, is left to the scheduler).
    fn plan(workers: usize) -> Option<Self> {
        let all = process_cpus()?;
        let cpus: Vec<usize> = (0..CpuSet::MAX_CPU).filter(|&cpu| all.is_set(cpu)).collect();
        (cpus.len() == workers).then(|| Self {
            holders: cpus.iter().map(|_| AtomicI32::new(0)).collect(),
            cpus,
            handover: Mutex::new(()),
        })
    }

    /// Called by each worker before it parks (tokio's `on_thread_park`, which only workers
    /// call): pins the calling thread to its worker's CPU if it does not hold that place yet.
    fn before_park(&self) {
        let Some(index) = tokio::runtime::worker_index() else {
            return;
        };
        let Some(holder) = self.holders.get(index) else { return };
        let me = own_tid();
        if holder.load(Ordering::Acquire) == me {
            return;
        }
        let _one_at_a_time = self.handover.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        // This thread may have held another worker's place before a `block_in_place`.
        for other in &self.holders {
            let _ = other.compare_exchange(me, 0, Ordering::AcqRel, Ordering::Acquire);
        }
        let before = holder.swap(me, Ordering::AcqRel);
        let Some(all) = process_cpus() else { return };
        if before != 0 && !self.holders.iter().any(|h| h.load(Ordering::Acquire) == before) {
            // It runs blocking work now (a thread that exits gives its place up first).
            let _ = sched_setaffinity(Pid::from_raw(before), &all);
        }
        let cpu = self.cpus[index];
        if !all.is_set(cpu) {
            return; // the operator has taken it away since the start
        }
        let mut one = CpuSet::new();
        one.set(cpu);
        if let Err(error) = sched_setaffinity(None, &one) {
            tracing::warn!(%error, worker = index, cpu, "a worker could not be pinned to its CPU");
        }
    }

    /// Called by each runtime thread as it exits (tokio's `on_thread_stop`): gives up the
    /// place it holds, if any, so that no other thread given its id later is taken for it.
    fn forget(&self, tid: i32) {
        let _one_at_a_time = self.handover.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        for holder in &self.holders {
            let _ = holder.compare_exchange(tid, 0, Ordering::AcqRel, Ordering::Acquire);
        }
    }

    /// Gives every CPU back to each thread of the process that holds no worker's place but
    /// runs on fewer CPUs (it was started by a pinned worker).
    fn release_strays(&self) {
        let _one_at_a_time = self.handover.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let (Some(all), Ok(threads)) = (process_cpus(), std::fs::read_dir("/proc/self/task")) else {
            return;
        };
        for tid in threads.filter_map(|t| t.ok()?.file_name().to_str()?.parse::<i32>().ok()) {
            if self.holders.iter().any(|h| h.load(Ordering::Acquire) == tid) {
                continue;
            }
            let Some(pid) = Pid::from_raw(tid) else { continue };
            if sched_getaffinity(Some(pid)).is_ok_and(|cpus| cpus.count() < all.count()) {
                let _ = sched_setaffinity(Some(pid), &all);
            }
        }
    }
}

/// The pinning of a runtime's workers, hooked into its builder. The plan is made at the first
/// worker's first park (at start), from the runtime's own worker count (`--workers`, else
/// tokio's `TOKIO_WORKER_THREADS`, else one per CPU).
pub struct Pinning(Arc<OnceLock<Option<WorkerCpus>>>);

impl Pinning {
    /// Hooks the pinning into `builder`.
    pub fn hook(builder: &mut tokio::runtime::Builder) -> Self {
        let plan: Arc<OnceLock<Option<WorkerCpus>>> = Arc::default();
        let hooked = Arc::clone(&plan);
        builder.on_thread_park(move || {
            let plan = hooked.get_or_init(|| {
                let workers = tokio::runtime::Handle::try_current().ok()?.metrics().num_workers();
                let plan = WorkerCpus::plan(workers);
                match &plan {
                    Some(plan) => tracing::debug!(workers, cpus = ?plan.cpus, "each worker pinned to a CPU of its own"),
                    None => tracing::debug!(workers, "workers not pinned: not one per CPU the process may run on"),
                }
                plan
            });
            if let Some(plan) = plan {
                plan.before_park();
            }
        });
        let hooked = Arc::clone(&plan);
        builder.on_thread_start(move || {
            // Before the plan is made, threads are the main thread's, which is never pinned.
            if let Some(Some(_)) = hooked.get()
                && let Some(all) = process_cpus()
            {
                let _ = sched_setaffinity(None, &all);
            }
        });
        let hooked = Arc::clone(&plan);
        builder.on_thread_stop(move || {
            if let Some(Some(plan)) = hooked.get() {
                plan.forget(own_tid());
            }
        });
        Self(plan)
    }

    /// Starts the once-a-second release of threads born pinned, on `runtime`, for as long as
    /// its workers are pinned (it ends at once if they are not).
    pub fn release_strays_every_second(self, runtime: &tokio::runtime::Runtime) {
        runtime.spawn(async move {
            let mut every_second = tokio::time::interval(std::time::Duration::from_secs(1));
            every_second.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
            loop {
                every_second.tick().await;
                match self.0.get() {
                    Some(Some(plan)) => plan.release_strays(),
                    Some(None) => return,
                    None => {} // no worker has parked yet
                }
            }
        });
    }
}

/// Every CPU the process may run on now: its main thread's, which is never pinned (it runs
/// no worker), and follows an operator's `taskset -a -p` (so threads are only ever given back
/// what the operator allows).
fn process_cpus() -> Option<CpuSet> {
    sched_getaffinity(Some(rustix::process::getpid())).ok()
}

/// This thread's id, asked of the kernel once per thread.
fn own_tid() -> i32 {
    thread_local! {
        static TID: i32 = gettid().as_raw_nonzero().get();
    }
    TID.with(|tid| *tid)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plan_only_for_one_worker_per_allowed_cpu() {
        let allowed = sched_getaffinity(None).unwrap().count() as usize;
        let plan = WorkerCpus::plan(allowed).expect("one worker per CPU gets a plan");
        assert_eq!(plan.cpus.len(), allowed);
        assert!(plan.cpus.windows(2).all(|w| w[0] < w[1]), "{:?}", plan.cpus);
        assert!(WorkerCpus::plan(allowed + 1).is_none());
        if allowed > 1 {
            assert!(WorkerCpus::plan(allowed - 1).is_none());
        }
    }

    /// A thread started by a pinned worker is born pinned: the release gives it every CPU.
    #[test]
    fn a_thread_born_pinned_gets_every_cpu_back() {
        let all = sched_getaffinity(None).unwrap();
        if all.count() < 2 {
            eprintln!("one CPU: nothing to pin apart");
            return;
        }
        let plan = WorkerCpus::plan(all.count() as usize).unwrap();
        let (started, tid) = std::sync::mpsc::channel();
        let (release, released) = std::sync::mpsc::channel::<()>();
        let stray = std::thread::spawn(move || {
            let mut one = CpuSet::new();
            one.set(plan_first_cpu());
            sched_setaffinity(None, &one).unwrap();
            started.send(own_tid()).unwrap();
            released.recv().unwrap();
            sched_getaffinity(None).unwrap().count()
        });
        let tid = tid.recv().unwrap();
        let cpus_of = |tid| sched_getaffinity(Pid::from_raw(tid)).unwrap().count();
        assert_eq!(cpus_of(tid), 1);
        plan.release_strays();
        assert_eq!(cpus_of(tid), all.count());
        release.send(()).unwrap();
        assert_eq!(stray.join().unwrap(), all.count());
    }

    /// A thread's place is given up as it exits, and only its own.
    #[test]
    fn an_exiting_thread_gives_its_place_up() {
        let plan = WorkerCpus::plan(process_cpus().unwrap().count() as usize).unwrap();
        plan.holders[0].store(12_345, Ordering::Release);
        plan.forget(54_321);
        assert_eq!(plan.holders[0].load(Ordering::Acquire), 12_345);
        plan.forget(12_345);
        assert_eq!(plan.holders[0].load(Ordering::Acquire), 0);
    }

    fn plan_first_cpu() -> usize {
        let all = sched_getaffinity(None).unwrap();
        (0..CpuSet::MAX_CPU).find(|&cpu| all.is_set(cpu)).unwrap()
    }
}
