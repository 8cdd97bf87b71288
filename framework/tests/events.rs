//! `Events`: subscribe, unsubscribe, raise, order, panicking handlers, typed payloads, lifecycle definitions.

use std::sync::{Arc, Mutex};

use rotor::config::ApplicationConfig;
use rotor::environment::ApplicationEnvironment;
use rotor::events::{
    APPLICATION_MODULES_LOADED, APPLICATION_STARTED, APPLICATION_STARTING, APPLICATION_STOP_PREPARING,
    APPLICATION_STOPPED, APPLICATION_STOPPING, EventDefinition, Events, SERVER_READY,
};

const NUMBER: EventDefinition<u32> = EventDefinition::new("Number");
const TEXT: EventDefinition<String> = EventDefinition::new("Text");
/// The same name as `NUMBER`, another payload type: another event.
const NUMBER_AS_TEXT: EventDefinition<String> = EventDefinition::new("Number");

type Log = Arc<Mutex<Vec<String>>>;

fn recorder(log: &Log, label: &'static str) -> impl Fn(&u32) + Send + Sync + 'static {
    let log = log.clone();
    move |value: &u32| log.lock().unwrap().push(format!("{label}{value}"))
}

fn take(log: &Log) -> Vec<String> {
    std::mem::take(&mut *log.lock().unwrap())
}

#[test]
fn handlers_run_in_subscription_order() {
    let events = Events::new();
    let log = Log::default();
    events.subscribe(&NUMBER, recorder(&log, "a"));
    events.subscribe(&NUMBER, recorder(&log, "b"));
    events.subscribe(&NUMBER, recorder(&log, "c"));
    events.raise(&NUMBER, &1);
    events.raise(&NUMBER, &2);
    assert_eq!(take(&log), ["a1", "b1", "c1", "a2", "b2", "c2"]);
    assert_eq!(events.handler_count(&NUMBER), 3);
}

#[test]
fn raising_without_handlers_does_nothing() {
    let events = Events::new();
    events.raise(&NUMBER, &1);
    assert!(events.try_raise(&TEXT, &String::from("x")).is_ok());
}

#[test]
fn unsubscribe_by_bus_or_by_handle() {
    let events = Events::new();
    let log = Log::default();
    let a = events.subscribe(&NUMBER, recorder(&log, "a"));
    let b = events.subscribe(&NUMBER, recorder(&log, "b"));
    events.subscribe(&NUMBER, recorder(&log, "c"));
    assert_eq!(a.event_name(), "Number");
    assert!(events.unsubscribe(a));
    events.raise(&NUMBER, &1);
    assert_eq!(take(&log), ["b1", "c1"]);
    assert!(b.unsubscribe());
    events.raise(&NUMBER, &2);
    assert_eq!(take(&log), ["c2"]);

    // A handle of another bus is refused; one whose bus is gone does nothing.
    let other = Events::new();
    let foreign = other.subscribe(&NUMBER, |_: &u32| {});
    assert!(!events.unsubscribe(foreign));
    let orphan = other.subscribe(&NUMBER, |_: &u32| {});
    drop(other);
    assert!(!orphan.unsubscribe());
}

#[test]
fn dropping_the_handle_keeps_the_handler() {
    let events = Events::new();
    let log = Log::default();
    drop(events.subscribe(&NUMBER, recorder(&log, "a")));
    events.raise(&NUMBER, &1);
    assert_eq!(take(&log), ["a1"]);
}

#[test]
fn a_panicking_handler_does_not_stop_the_others() {
    let events = Events::new();
    let log = Log::default();
    events.subscribe(&NUMBER, recorder(&log, "a"));
    events.subscribe(&NUMBER, |value: &u32| panic!("handler b failed on {value}"));
    events.subscribe(&NUMBER, recorder(&log, "c"));
    events.raise(&NUMBER, &1);
    assert_eq!(take(&log), ["a1", "c1"]);

    // try_raise calls every handler too, then reports the panics (Ktor rethrows).
    let error = events.try_raise(&NUMBER, &2).unwrap_err();
    assert_eq!(take(&log), ["a2", "c2"]);
    assert!(error.is_panic());
    let message = error.to_string();
    assert!(message.contains("Number") && message.contains("handler b failed on 2"), "{message}");
}

#[test]
fn payloads_are_typed_and_events_are_told_apart_by_type() {
    let events = Events::new();
    let texts = Arc::new(Mutex::new(Vec::new()));
    let seen = texts.clone();
    events.subscribe(&TEXT, move |text: &String| seen.lock().unwrap().push(text.clone()));
    let seen = texts.clone();
    events.subscribe(&NUMBER_AS_TEXT, move |text: &String| seen.lock().unwrap().push(format!("as-text {text}")));
    let log = Log::default();
    events.subscribe(&NUMBER, recorder(&log, "n"));

    events.raise(&TEXT, &String::from("hello"));
    events.raise(&NUMBER, &5);
    events.raise(&NUMBER_AS_TEXT, &String::from("five"));
    assert_eq!(*texts.lock().unwrap(), ["hello", "as-text five"]);
    assert_eq!(take(&log), ["n5"]);
}

#[test]
fn unsized_payloads() {
    static WORD: EventDefinition<str> = EventDefinition::new("Word");
    let events = Events::new();
    let log = Arc::new(Mutex::new(String::new()));
    let seen = log.clone();
    events.subscribe(&WORD, move |word: &str| seen.lock().unwrap().push_str(word));
    events.raise(&WORD, "hi");
    assert_eq!(*log.lock().unwrap(), "hi");
}

#[test]
fn handlers_may_change_subscriptions_while_raised() {
    let events = Arc::new(Events::new());
    let log = Log::default();
    let bus = events.clone();
    let inner_log = log.clone();
    events.subscribe(&NUMBER, move |value: &u32| {
        // Subscribing from a handler does not deadlock; the new handler runs from the next raise.
        bus.subscribe(&NUMBER, recorder(&inner_log, "late"));
        inner_log.lock().unwrap().push(format!("first{value}"));
    });
    events.raise(&NUMBER, &1);
    assert_eq!(take(&log), ["first1"]);
    events.raise(&NUMBER, &2);
    assert_eq!(take(&log), ["first2", "late2"]);
}

#[test]
fn raised_from_many_threads() {
    let events = Arc::new(Events::new());
    let total = Arc::new(Mutex::new(0u32));
    let sum = total.clone();
    events.subscribe(&NUMBER, move |value: &u32| *sum.lock().unwrap() += value);
    let threads: Vec<_> = (0..4)
        .map(|_| {
            let events = events.clone();
            std::thread::spawn(move || {
                for _ in 0..100 {
                    events.raise(&NUMBER, &1);
                }
            })
        })
        .collect();
    for thread in threads {
        thread.join().unwrap();
    }
    assert_eq!(*total.lock().unwrap(), 400);
}

#[test]
fn lifecycle_events_carry_the_environment() {
    let environment =
        ApplicationEnvironment::builder().config(ApplicationConfig::from_pairs([("app.name", "shop")])).build();
    let log = Log::default();
    let lifecycle = [
        (&APPLICATION_STARTING, "ApplicationStarting"),
        (&APPLICATION_MODULES_LOADED, "ApplicationModulesLoaded"),
        (&APPLICATION_STARTED, "ApplicationStarted"),
        (&SERVER_READY, "ServerReady"),
        (&APPLICATION_STOP_PREPARING, "ApplicationStopPreparing"),
        (&APPLICATION_STOPPING, "ApplicationStopping"),
        (&APPLICATION_STOPPED, "ApplicationStopped"),
    ];
    for (definition, name) in lifecycle {
        assert_eq!(definition.name(), name);
        let log = log.clone();
        environment.events().subscribe(definition, move |env: &ApplicationEnvironment| {
            log.lock().unwrap().push(format!("{name}:{}", env.config().string("app.name").unwrap_or("?")));
        });
    }
    for (definition, _) in lifecycle {
        environment.events().raise(definition, &environment);
    }
    let expected: Vec<String> = lifecycle.iter().map(|(_, name)| format!("{name}:shop")).collect();
    assert_eq!(take(&log), expected);

    // Clones share the bus.
    let clone = environment.clone();
    assert!(clone.ptr_eq(&environment));
    assert_eq!(clone.events().handler_count(&SERVER_READY), 1);
}
