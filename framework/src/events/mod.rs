//! `Events`: a typed event bus (Ktor's `Events` and `EventDefinition<T>`), and the application lifecycle
//! events.
//!
//! # Lifecycle
//!
//! The engine raises these on the environment's bus ([`ApplicationEnvironment::events`]), in this order:
//!
//! | constant | Ktor | raised |
//! | --- | --- | --- |
//! | [`APPLICATION_STARTING`] | `ApplicationStarting` | before the modules run |
//! | [`APPLICATION_MODULES_LOADED`] | `ApplicationModulesLoaded` | after every module has run |
//! | [`APPLICATION_STARTED`] | `ApplicationStarted` | the application is ready for calls |
//! | [`SERVER_READY`] | `ServerReady` | every connector is bound and accepting |
//! | [`APPLICATION_STOP_PREPARING`] | `ApplicationStopPreparing` | stop begins: no new connections |
//! | [`APPLICATION_STOPPING`] | `ApplicationStopping` | in-flight calls are done or aborted |
//! | [`APPLICATION_STOPPED`] | `ApplicationStopped` | the application is stopped |
//!
//! Every lifecycle event carries the [`ApplicationEnvironment`], where Ktor passes the `Application` for some
//! of them: while starting, the application is still being configured through `&mut Application`, so it
//! cannot be lent to handlers, and one payload type for all seven keeps handlers interchangeable. The
//! environment gives the configuration, the connectors and this bus.

use std::any::{Any, TypeId};
use std::collections::HashMap;
use std::fmt;
use std::marker::PhantomData;
use std::panic::{AssertUnwindSafe, catch_unwind};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, PoisonError, RwLock, Weak};

use crate::environment::ApplicationEnvironment;
use crate::error::panic_message;
use crate::{Error, Result};

/// Ktor's `ApplicationStarting`: raised before the application's modules run.
pub const APPLICATION_STARTING: EventDefinition<ApplicationEnvironment> = EventDefinition::new("ApplicationStarting");

/// Ktor's `ApplicationModulesLoaded`: raised after every module has run.
pub const APPLICATION_MODULES_LOADED: EventDefinition<ApplicationEnvironment> =
    EventDefinition::new("ApplicationModulesLoaded");

/// Ktor's `ApplicationStarted`: raised when the application is configured and ready for calls.
pub const APPLICATION_STARTED: EventDefinition<ApplicationEnvironment> = EventDefinition::new("ApplicationStarted");

/// Ktor's `ServerReady`: raised when the engine has bound every connector and accepts connections.
pub const SERVER_READY: EventDefinition<ApplicationEnvironment> = EventDefinition::new("ServerReady");

/// Ktor's `ApplicationStopPreparing`: raised first when stopping (on SIGTERM, SIGINT or `stop()`).
pub const APPLICATION_STOP_PREPARING: EventDefinition<ApplicationEnvironment> =
    EventDefinition::new("ApplicationStopPreparing");

/// Ktor's `ApplicationStopping`: raised when in-flight calls are done (or aborted at the timeout), before the
/// application is torn down.
pub const APPLICATION_STOPPING: EventDefinition<ApplicationEnvironment> = EventDefinition::new("ApplicationStopping");

/// Ktor's `ApplicationStopped`: raised last, when the application is stopped.
pub const APPLICATION_STOPPED: EventDefinition<ApplicationEnvironment> = EventDefinition::new("ApplicationStopped");

/// An event whose handlers receive a `&T`: Ktor's `EventDefinition<T>`.
///
/// An event is identified by its name and its payload type: two definitions with the same name and type are
/// the same event, so it may be declared as a `const` or a `static`.
///
/// ```
/// use rotor::events::{EventDefinition, Events};
///
/// /// Raised when a user signs up; carries the user's name.
/// static SIGNED_UP: EventDefinition<str> = EventDefinition::new("SignedUp");
///
/// let events = Events::new();
/// events.subscribe(&SIGNED_UP, |name: &str| assert_eq!(name, "ada"));
/// events.raise(&SIGNED_UP, "ada");
/// assert_eq!(SIGNED_UP.name(), "SignedUp");
/// ```
pub struct EventDefinition<T: ?Sized + 'static> {
    name: &'static str,
    payload: PhantomData<fn(&T)>,
}

impl<T: ?Sized + 'static> EventDefinition<T> {
    /// An event named `name` (the name shows in logs and identifies the event with its payload type).
    pub const fn new(name: &'static str) -> Self {
        EventDefinition { name, payload: PhantomData }
    }

    /// The name.
    pub const fn name(&self) -> &'static str {
        self.name
    }

    fn key(&self) -> EventKey {
        EventKey { payload: TypeId::of::<T>(), name: self.name }
    }
}

impl<T: ?Sized + 'static> fmt::Debug for EventDefinition<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("EventDefinition")
            .field("name", &self.name)
            .field("payload", &std::any::type_name::<T>())
            .finish()
    }
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
struct EventKey {
    payload: TypeId,
    name: &'static str,
}

/// A handler of events with payload `T`, stored type-erased.
struct Handler<T: ?Sized + 'static>(Box<dyn Fn(&T) + Send + Sync>);

#[derive(Clone)]
struct Entry {
    id: u64,
    /// A `Handler<T>` for the event's payload type `T`.
    handler: Arc<dyn Any + Send + Sync>,
}

#[derive(Default)]
struct Registry {
    next_id: AtomicU64,
    handlers: RwLock<HashMap<EventKey, Vec<Entry>>>,
}

impl Registry {
    fn remove(&self, key: EventKey, id: u64) -> bool {
        let mut handlers = self.handlers.write().unwrap_or_else(PoisonError::into_inner);
        let Some(entries) = handlers.get_mut(&key) else { return false };
        let before = entries.len();
        entries.retain(|entry| entry.id != id);
        let removed = entries.len() != before;
        if entries.is_empty() {
            handlers.remove(&key);
        }
        removed
    }
}

/// A typed event bus: handlers subscribe to an [`EventDefinition`] and are called, in subscription order,
/// when it is raised. It is `Send + Sync`; handlers may subscribe, unsubscribe and raise from within a handler
/// (a change takes effect from the next raise).
///
/// A handler that panics does not stop the others: [`raise`](Self::raise) catches the panic, logs it with
/// `tracing` (target `rotor::events`) and calls the remaining handlers. Events are notifications, and the
/// code that raises them (the engine's start and stop sequences) must go on: a monitoring hook that panics in
/// `ApplicationStopping` must not keep the server from stopping. Ktor instead rethrows the first exception
/// after calling every handler; [`try_raise`](Self::try_raise) does the same for callers that want it.
///
/// A handler is kept until unsubscribed, with everything it captures: a handler on the environment's bus
/// should not capture the [`ApplicationEnvironment`] (that would keep it alive in a cycle); the lifecycle
/// events pass it as the payload instead.
///
/// ```
/// use std::sync::{Arc, Mutex};
/// use rotor::events::{EventDefinition, Events};
///
/// const ORDER_PLACED: EventDefinition<u32> = EventDefinition::new("OrderPlaced");
///
/// let events = Events::new();
/// let seen = Arc::new(Mutex::new(Vec::new()));
/// let log = seen.clone();
/// let subscription = events.subscribe(&ORDER_PLACED, move |id: &u32| log.lock().unwrap().push(*id));
/// events.raise(&ORDER_PLACED, &7);
/// assert!(events.unsubscribe(subscription));
/// events.raise(&ORDER_PLACED, &8); // no handler any more
/// assert_eq!(*seen.lock().unwrap(), [7]);
/// ```
#[derive(Default)]
pub struct Events {
    registry: Arc<Registry>,
}

impl fmt::Debug for Events {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let handlers = self.registry.handlers.read().unwrap_or_else(PoisonError::into_inner);
        let mut map = f.debug_map();
        for (key, entries) in handlers.iter() {
            map.entry(&key.name, &entries.len());
        }
        map.finish()
    }
}

impl Events {
    /// An empty bus.
    pub fn new() -> Self {
        Self::default()
    }

    /// Calls `handler` with the payload every time `definition` is raised, until unsubscribed. Handlers run
    /// in subscription order, on the thread that raises.
    pub fn subscribe<T, F>(&self, definition: &EventDefinition<T>, handler: F) -> Subscription
    where
        T: ?Sized + 'static,
        F: Fn(&T) + Send + Sync + 'static,
    {
        let key = definition.key();
        let id = self.registry.next_id.fetch_add(1, Ordering::Relaxed);
        let handler: Arc<dyn Any + Send + Sync> = Arc::new(Handler::<T>(Box::new(handler)));
        let mut handlers = self.registry.handlers.write().unwrap_or_else(PoisonError::into_inner);
        handlers.entry(key).or_default().push(Entry { id, handler });
        Subscription { registry: Arc::downgrade(&self.registry), key, id }
    }

    /// Removes the handler of `subscription`; false when it was already removed (or belongs to another bus).
    pub fn unsubscribe(&self, subscription: Subscription) -> bool {
        if !Weak::ptr_eq(&subscription.registry, &Arc::downgrade(&self.registry)) {
            return false;
        }
        self.registry.remove(subscription.key, subscription.id)
    }

    /// The number of handlers subscribed to `definition`.
    pub fn handler_count<T: ?Sized + 'static>(&self, definition: &EventDefinition<T>) -> usize {
        let handlers = self.registry.handlers.read().unwrap_or_else(PoisonError::into_inner);
        handlers.get(&definition.key()).map_or(0, Vec::len)
    }

    /// Calls every handler of `definition` with `payload`, in subscription order. A handler that panics is
    /// logged and skipped; the others still run (see the [type documentation](Events)).
    pub fn raise<T: ?Sized + 'static>(&self, definition: &EventDefinition<T>, payload: &T) {
        let _ = self.raise_all(definition, payload);
    }

    /// As [`raise`](Self::raise), then, when any handler panicked, an error (Ktor's behaviour): every handler
    /// has still been called.
    ///
    /// # Errors
    /// A panic error ([`Error::is_panic`]) naming the event and the panic messages of the handlers that
    /// panicked.
    pub fn try_raise<T: ?Sized + 'static>(&self, definition: &EventDefinition<T>, payload: &T) -> Result<()> {
        let failures = self.raise_all(definition, payload);
        if failures.is_empty() {
            return Ok(());
        }
        Err(Error::panic(format!(
            "{} handler(s) of event {} panicked: {}",
            failures.len(),
            definition.name,
            failures.join("; ")
        )))
    }

    /// Calls every handler; returns the messages of those that panicked.
    fn raise_all<T: ?Sized + 'static>(&self, definition: &EventDefinition<T>, payload: &T) -> Vec<String> {
        // A snapshot, so that handlers may subscribe or unsubscribe without deadlocking.
        let entries: Vec<Entry> = {
            let handlers = self.registry.handlers.read().unwrap_or_else(PoisonError::into_inner);
            match handlers.get(&definition.key()) {
                Some(entries) => entries.clone(),
                None => return Vec::new(),
            }
        };
        let mut failures = Vec::new();
        for entry in entries {
            let Some(handler) = entry.handler.downcast_ref::<Handler<T>>() else { continue };
            if let Err(panic) = catch_unwind(AssertUnwindSafe(|| (handler.0)(payload))) {
                let message = panic_message(panic.as_ref());
                tracing::error!(
                    target: "rotor::events",
                    event = definition.name,
                    "a handler of event {} panicked: {message}; the other handlers still run",
                    definition.name
                );
                failures.push(message);
            }
        }
        failures
    }
}

/// The handle of a subscription, returned by [`Events::subscribe`]. Dropping it keeps the handler subscribed
/// (as Ktor's); remove the handler with [`unsubscribe`](Self::unsubscribe) or [`Events::unsubscribe`].
pub struct Subscription {
    registry: Weak<Registry>,
    key: EventKey,
    id: u64,
}

impl Subscription {
    /// Removes the handler from its bus; false when it was already removed or the bus is gone.
    pub fn unsubscribe(self) -> bool {
        self.registry.upgrade().is_some_and(|registry| registry.remove(self.key, self.id))
    }

    /// The name of the event subscribed to.
    pub fn event_name(&self) -> &'static str {
        self.key.name
    }
}

impl fmt::Debug for Subscription {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Subscription").field("event", &self.key.name).field("id", &self.id).finish()
    }
}
