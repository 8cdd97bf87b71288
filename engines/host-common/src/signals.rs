//! What the engine tells its connections: stop gracefully, abort, or a tick of the engine clock has passed.
//!
//! Time is counted in the engine's ticks (a quarter of the shortest timeout): at each tick the engine bumps an
//! epoch and wakes every connection once, and each one compares what it saw since the last tick. So a connection
//! costs no timer per request, and one `Notified` for its life.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::task::Context;
use std::time::Duration;

use rotor::engine::ProtocolLimits;
use tokio::sync::Notify;
use tokio::sync::futures::Notified;

// The state is 0 while running.
const STOPPING: u8 = 1;
const ABORTING: u8 = 2;

/// Where the engine is in its life, as its connections see it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum EngineState {
    /// Serving.
    Running,
    /// Stopping gracefully: finish the calls under way, then close (HTTP/1.1 `Connection: close`, HTTP/2
    /// GOAWAY); close idle connections now.
    Stopping,
    /// The shutdown timeout has passed: drop the connection.
    Aborting,
}

/// The engine's signals to every connection: stop, abort and the ticks of its clock.
#[derive(Debug, Default)]
pub struct Signals {
    state: AtomicU8,
    /// Ticks so far.
    epoch: AtomicU64,
    /// Bumped before every notification, so a connection sees a change with one load.
    generation: AtomicU64,
    notify: Notify,
}

impl Signals {
    /// Asks every connection to finish its calls and close.
    pub fn stop(&self) {
        self.state.fetch_max(STOPPING, Ordering::AcqRel);
        self.signal();
    }

    /// Drops every connection.
    pub fn abort(&self) {
        self.state.fetch_max(ABORTING, Ordering::AcqRel);
        self.signal();
    }

    /// One tick of the engine's clock.
    pub fn tick(&self) {
        self.epoch.fetch_add(1, Ordering::AcqRel);
        self.signal();
    }

    /// Where the engine is now.
    pub fn state(&self) -> EngineState {
        match self.state.load(Ordering::Acquire) {
            0 => EngineState::Running,
            STOPPING => EngineState::Stopping,
            _ => EngineState::Aborting,
        }
    }

    /// The ticks of the engine clock so far.
    pub fn epoch(&self) -> u64 {
        self.epoch.load(Ordering::Acquire)
    }

    /// A future that completes at the next signal; pin it once per connection and pass it to
    /// [`SignalWatch::poll`].
    pub fn notified(&self) -> Notified<'_> {
        self.notify.notified()
    }

    fn signal(&self) {
        self.generation.fetch_add(1, Ordering::AcqRel);
        self.notify.notify_waiters();
    }
}

/// A change a connection has seen since it last looked.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct SignalChange {
    /// Where the engine is now.
    pub state: EngineState,
    /// The ticks of the engine clock since the last change (0 if only the state changed).
    pub ticks: u64,
    /// The epoch now.
    pub epoch: u64,
}

/// One connection's view of the engine's [`Signals`]: what it has seen so far.
///
/// ```
/// use std::pin::pin;
/// use rotor_host_common::{EngineState, SignalWatch, Signals};
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let signals = Signals::default();
/// let mut watch = SignalWatch::new(&signals);
/// let mut notified = pin!(signals.notified());
/// std::future::poll_fn(|cx| {
///     // The first poll registers for the next signal and reports the state as it is.
///     assert_eq!(watch.poll(&signals, notified.as_mut(), cx).unwrap().state, EngineState::Running);
///     assert!(watch.poll(&signals, notified.as_mut(), cx).is_none());
///     signals.tick();
///     signals.stop();
///     let change = watch.poll(&signals, notified.as_mut(), cx).unwrap();
///     assert_eq!((change.state, change.ticks), (EngineState::Stopping, 1));
///     std::task::Poll::Ready(())
/// })
/// .await;
/// # });
/// ```
#[derive(Debug)]
pub struct SignalWatch {
    generation: Option<u64>,
    epoch: u64,
}

impl SignalWatch {
    /// A watch that has seen the epoch of now.
    pub fn new(signals: &Signals) -> SignalWatch {
        SignalWatch { generation: None, epoch: signals.epoch() }
    }

    /// What changed since the last call, if anything (one atomic load when nothing did); registers `cx` for the
    /// next signal through `notified`, which must come from `signals`.
    pub fn poll<'a>(
        &mut self,
        signals: &'a Signals,
        mut notified: Pin<&mut Notified<'a>>,
        cx: &mut Context<'_>,
    ) -> Option<SignalChange> {
        if self.generation == Some(signals.generation.load(Ordering::Acquire)) {
            return None;
        }
        // (Re-)register for the next signal, then read what it may have changed. A notification that arrives
        // between the two is seen by the load; one after it wakes this task.
        loop {
            notified.set(signals.notify.notified());
            let now = signals.generation.load(Ordering::Acquire);
            if notified.as_mut().poll(cx).is_pending() {
                self.generation = Some(now);
                break;
            }
        }
        let epoch = signals.epoch();
        let ticks = epoch.wrapping_sub(self.epoch);
        self.epoch = epoch;
        Some(SignalChange { state: signals.state(), ticks, epoch })
    }
}

/// The timeouts of [`ProtocolLimits`] in ticks of the engine's clock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Watch {
    /// How often the engine ticks.
    pub tick: Duration,
    /// The idle timeout in ticks.
    pub idle_ticks: Option<u64>,
    /// The request read timeout in ticks.
    pub read_ticks: Option<u64>,
}

impl Watch {
    /// The watch for `limits`; `None` when neither the idle nor the read timeout is set (no ticks needed).
    ///
    /// ```
    /// use std::time::Duration;
    /// use rotor::engine::ProtocolLimits;
    /// use rotor_host_common::Watch;
    ///
    /// let limits = ProtocolLimits {
    ///     connection_idle_timeout: Some(Duration::from_secs(40)),
    ///     request_read_timeout: Some(Duration::from_secs(4)),
    ///     ..ProtocolLimits::default()
    /// };
    /// let watch = Watch::new(&limits).unwrap();
    /// assert_eq!(watch.tick, Duration::from_secs(1));
    /// assert_eq!((watch.idle_ticks, watch.read_ticks), (Some(40), Some(4)));
    /// ```
    pub fn new(limits: &ProtocolLimits) -> Option<Watch> {
        let shortest = match (limits.connection_idle_timeout, limits.request_read_timeout) {
            (Some(idle), Some(read)) => idle.min(read),
            (Some(timeout), None) | (None, Some(timeout)) => timeout,
            (None, None) => return None,
        };
        // A quarter of the shortest timeout: a connection is closed between its timeout and a quarter later.
        let tick = (shortest / 4).max(Duration::from_millis(10));
        let ticks = |timeout: Duration| timeout.as_nanos().div_ceil(tick.as_nanos()).try_into().unwrap_or(u64::MAX);
        Some(Watch {
            tick,
            idle_ticks: limits.connection_idle_timeout.map(ticks),
            read_ticks: limits.request_read_timeout.map(ticks),
        })
    }
}
