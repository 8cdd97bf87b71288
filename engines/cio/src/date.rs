//! The `Date` field, formatted at most once a second per thread, from a clock the engine keeps while it runs.
//!
//! Reading the system clock for every answer costs a `clock_gettime` per request (about 1 % of a pipelined
//! request's time under load, measured with `perf`); instead, each running engine keeps a task that stores the
//! current second in [`SECOND`] four times a second, and an answer reads that (one relaxed load). While no engine
//! runs (a unit test, the moment between stops and starts), answers read the system clock as before.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use tokio::task::JoinHandle;
use tokio::time::MissedTickBehavior;

/// How often a running clock stores the second: a `Date` is at most this late.
const TICK: Duration = Duration::from_millis(250);

/// The current second since the Unix epoch, as a running clock last stored it; 0 while no clock runs.
static SECOND: AtomicU64 = AtomicU64::new(0);

/// How many clocks run (one per started engine).
static RUNNING: AtomicUsize = AtomicUsize::new(0);

struct Cached {
    second: u64,
    line: String,
}

thread_local! {
    static DATE: RefCell<Cached> = const { RefCell::new(Cached { second: u64::MAX, line: String::new() }) };
}

/// Appends the `date` field line with the current time (IMF-fixdate) to `out`.
pub(crate) fn append(out: &mut Vec<u8>) {
    let second = match SECOND.load(Ordering::Relaxed) {
        0 => system_second(),
        second => second,
    };
    DATE.with_borrow_mut(|cached| {
        if cached.second != second {
            cached.second = second;
            cached.line = format!("date: {}\r\n", httpdate::fmt_http_date(UNIX_EPOCH + Duration::from_secs(second)));
        }
        out.extend_from_slice(cached.line.as_bytes());
    });
}

fn system_second() -> u64 {
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |elapsed| elapsed.as_secs())
}

/// An engine's date clock: a task on the runtime its connections run on, stopped when this is dropped.
#[derive(Debug)]
pub(crate) struct DateClock {
    task: JoinHandle<()>,
}

/// Counts one running clock for as long as it lives; owned by the clock's task, so that whenever the task ends
/// (aborted, its runtime shut down, a panic) the count goes down after the task's last store.
struct Running;

impl Running {
    fn new() -> Self {
        RUNNING.fetch_add(1, Ordering::AcqRel);
        Running
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        // The last clock to stop hands `Date` back to the system clock (one starting at the same moment stores the
        // second again at its next tick).
        if RUNNING.fetch_sub(1, Ordering::AcqRel) == 1 {
            SECOND.store(0, Ordering::Relaxed);
        }
    }
}

impl DateClock {
    /// Stores the second now and starts the task that keeps it current, with `spawn` (the engine's runtime).
    pub(crate) fn start(spawn: impl FnOnce(Pin<Box<dyn Future<Output = ()> + Send>>) -> JoinHandle<()>) -> Self {
        let running = Running::new();
        SECOND.store(system_second(), Ordering::Relaxed);
        let task = spawn(Box::pin(async move {
            let _running = running;
            let mut interval = tokio::time::interval(TICK);
            interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
            loop {
                interval.tick().await;
                SECOND.store(system_second(), Ordering::Relaxed);
            }
        }));
        DateClock { task }
    }
}

impl Drop for DateClock {
    fn drop(&mut self) {
        self.task.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn date_line() -> String {
        let mut out = Vec::new();
        append(&mut out);
        String::from_utf8(out).unwrap()
    }

    fn close_to_now(line: &str) -> bool {
        let value = line.strip_prefix("date: ").and_then(|rest| rest.strip_suffix("\r\n")).unwrap();
        let date = httpdate::parse_http_date(value).unwrap();
        let now = SystemTime::now();
        now.duration_since(date).or_else(|_| date.duration_since(now)).unwrap() <= Duration::from_secs(2)
    }

    // One test, so that no other test of this binary runs a clock meanwhile (they share the statics).
    #[test]
    fn clocks_keep_the_second_current_and_the_last_one_stopped_hands_back_to_the_system_clock() {
        assert!(close_to_now(&date_line()), "without a clock");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().start_paused(true).build().unwrap();
        runtime.block_on(async {
            let first = DateClock::start(tokio::spawn);
            let second = DateClock::start(tokio::spawn);
            assert!(close_to_now(&date_line()), "with clocks");
            // A stale second, as if time had moved on: the next tick stores the current one again.
            SECOND.store(1, Ordering::Relaxed);
            tokio::time::sleep(TICK * 2).await;
            assert!(SECOND.load(Ordering::Relaxed) > 1, "a tick stored the second");
            drop(first);
            tokio::task::yield_now().await;
            assert_ne!(SECOND.load(Ordering::Relaxed), 0, "one clock still runs");
            drop(second);
            // The aborted task is dropped when the runtime polls it next.
            tokio::task::yield_now().await;
            assert_eq!(SECOND.load(Ordering::Relaxed), 0, "the last clock stopped");
            assert_eq!(RUNNING.load(Ordering::Relaxed), 0);
        });
        assert!(close_to_now(&date_line()), "after the clocks");

        // A clock whose runtime goes away ends with it and hands back too.
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let orphan = runtime.block_on(async { DateClock::start(tokio::spawn) });
        drop(runtime);
        assert_eq!(SECOND.load(Ordering::Relaxed), 0, "the task died with its runtime");
        drop(orphan);
        assert_eq!(RUNNING.load(Ordering::Relaxed), 0);
    }
}
