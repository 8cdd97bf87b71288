//! The `Date` field, formatted at most once a second per thread, from a clock the engine keeps while it runs.
//!
//! Reading the system clock for every answer costs a `clock_gettime` per request (about 1 % of a pipelined
//! request's time under load, measured with `perf`); instead, each running engine keeps a task that stores the
//! current second in [`SECOND`] four times a second, and an answer reads that (one relaxed load). While no engine
//! runs (a unit test, the moment between stops and starts), answers read the system clock as before.

use std::cell::RefCell;
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

/// An engine's date clock: a task on the runtime it was started on, stopped when this is dropped.
#[derive(Debug)]
pub(crate) struct DateClock {
    task: JoinHandle<()>,
}

impl DateClock {
    /// Stores the second now and starts the task that keeps it current. Must be called within a tokio runtime.
    pub(crate) fn start() -> Self {
        RUNNING.fetch_add(1, Ordering::AcqRel);
        SECOND.store(system_second(), Ordering::Relaxed);
        let task = tokio::spawn(async {
            let mut interval = tokio::time::interval(TICK);
            interval.set_missed_tick_behavior(MissedTickBehavior::Skip);
            loop {
                interval.tick().await;
                SECOND.store(system_second(), Ordering::Relaxed);
            }
        });
        DateClock { task }
    }
}

impl Drop for DateClock {
    fn drop(&mut self) {
        self.task.abort();
        // The last clock to stop hands `Date` back to the system clock (another starting at the same moment
        // stores the second again at its next tick).
        if RUNNING.fetch_sub(1, Ordering::AcqRel) == 1 {
            SECOND.store(0, Ordering::Relaxed);
        }
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

    fn parsed(line: &str) -> SystemTime {
        let value = line.strip_prefix("date: ").and_then(|rest| rest.strip_suffix("\r\n")).unwrap();
        httpdate::parse_http_date(value).unwrap()
    }

    #[test]
    fn the_date_line_is_an_imf_fixdate_of_now_with_or_without_a_clock() {
        let close_to_now = |line: &str| {
            let date = parsed(line);
            let now = SystemTime::now();
            now.duration_since(date).or_else(|_| date.duration_since(now)).unwrap() <= Duration::from_secs(2)
        };
        let without = date_line();
        assert!(close_to_now(&without), "{without}");
        let runtime = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        runtime.block_on(async {
            let clock = DateClock::start();
            assert_ne!(SECOND.load(Ordering::Relaxed), 0, "a running clock stores the second");
            let with = date_line();
            assert!(close_to_now(&with), "{with}");
            drop(clock);
        });
        // Other tests of this binary may run clocks of their own; this one's is gone.
        assert!(close_to_now(&date_line()));
    }
}
