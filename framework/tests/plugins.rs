//! The plugin API: install, lookup, conflicts, and every handler and hook a plugin can use.

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use rotor::application::{CallFailed, CallSetup, ResponseSent};
use rotor::call::{ApplicationReceivePipeline, ResponseValue};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

/// A plugin written against the trait: counts calls, and its instance is the counter.
struct CallCounter;

impl Plugin for CallCounter {
    type Config = usize;
    type Instance = AtomicUsize;

    fn key(&self) -> &'static str {
        "CallCounter"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, start: usize) -> Result<Arc<AtomicUsize>> {
        let counter = Arc::new(AtomicUsize::new(start));
        let handle = Arc::clone(&counter);
        plugin.on_call(move |_call| {
            handle.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        });
        Ok(counter)
    }
}

/// Another plugin that claims the same key.
struct Impostor;

impl Plugin for Impostor {
    type Config = ();
    type Instance = ();

    fn key(&self) -> &'static str {
        "CallCounter"
    }

    fn install(&self, _plugin: &mut PluginBuilder<'_>, _config: ()) -> Result<Arc<()>> {
        Ok(Arc::new(()))
    }
}

fn respond_ok(app: &mut Application) {
    app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move { ctx.call().respond_text("ok").await });
}

#[tokio::test]
async fn install_returns_the_instance_and_lookup_finds_it_typed() {
    let mut app = Application::default();
    let counter = app.install(CallCounter, 10);
    assert!(Arc::ptr_eq(&counter, &app.plugin(&CallCounter).unwrap()));
    assert!(app.plugin(&Impostor).is_none(), "a different plugin under the key is not returned as this one");

    let app = TestApplication::builder()
        .module(|app| {
            app.install(CallCounter, 10);
            respond_ok(app);
        })
        .build()
        .unwrap();
    app.client().get("/").send().await;
    app.client().get("/").send().await;
    assert_eq!(app.application().plugin(&CallCounter).unwrap().load(Ordering::SeqCst), 12);
}

#[test]
fn installing_the_same_plugin_twice_returns_the_existing_instance() {
    let mut app = Application::default();
    let first = app.install(CallCounter, 1);
    let second = app.install(CallCounter, 99);
    assert!(Arc::ptr_eq(&first, &second));
    assert_eq!(second.load(Ordering::SeqCst), 1, "the second configuration is ignored");
    assert_eq!(app.pipeline().interceptor_count(&ApplicationCallPipeline::PLUGINS), 1, "installed once");
}

#[test]
fn two_different_plugins_under_one_key_is_an_error() {
    let mut app = Application::default();
    app.install(CallCounter, 0);
    let error = app.try_install(Impostor, ()).unwrap_err();
    assert!(error.is_plugin());
    assert!(error.to_string().contains("`CallCounter`"), "{error}");
    assert!(error.to_string().contains("already installed"), "{error}");
}

#[test]
fn a_conflict_in_a_module_is_a_startup_error_naming_the_module() {
    let error = TestApplication::builder()
        .named_module("app::plugins", |app| {
            app.install(CallCounter, 0);
            app.install(Impostor, ());
        })
        .build()
        .unwrap_err();
    assert!(error.to_string().starts_with("module `app::plugins` failed to load:"), "{error}");
    assert!(error.to_string().contains("already installed"), "{error}");
}

#[test]
fn a_missing_plugin_is_a_clear_error() {
    let mut app = Application::default();
    app.install(CallCounter, 0);
    let error = app.require_plugin(&Impostor).unwrap_err();
    assert!(error.is_plugin());
}

/// Plugins made with `create_application_plugin` compare by definition, not only by key.
const GREETING: ApplicationPlugin<String> = create_application_plugin("Greeting", |plugin, greeting| {
    plugin.on_call(move |call| {
        let greeting = Arc::clone(&greeting);
        async move { call.response().set_header("x-greeting", greeting.as_str()) }
    });
    Ok(())
});

const OTHER_GREETING: ApplicationPlugin<String> = create_application_plugin("Greeting", |_plugin, _greeting| Ok(()));

#[tokio::test]
async fn created_plugins_install_and_compare_by_definition() {
    let mut app = Application::default();
    let instance = app.install(GREETING, "hello".to_owned());
    assert_eq!(*instance, "hello");
    assert_eq!(app.plugin(&GREETING).as_deref().map(String::as_str), Some("hello"));
    assert!(Arc::ptr_eq(&instance, &app.install(GREETING, "again".to_owned())));
    assert!(app.try_install(OTHER_GREETING, String::new()).unwrap_err().is_plugin());

    let app = test_application(|app| {
        app.install_with(GREETING, |greeting| greeting.push_str("hi"));
        respond_ok(app);
    })
    .await;
    assert_eq!(app.client().get("/").send().await.header("x-greeting"), Some("hi"));
}

const SHOUT: ApplicationPlugin<()> = create_application_plugin("Shout", |plugin, _config| {
    plugin.on_call_respond(|ctx| async move {
        let text = ctx.subject().take::<String>();
        if let Some(text) = text {
            *ctx.subject() = ResponseValue::new(text.to_uppercase());
        }
        Ok(())
    });
    plugin.on_call_receive(|ctx| async move {
        if ctx.subject().is_requested::<Vec<String>>() {
            let body = ctx.subject().take_value::<Body>();
            if let Some(body) = body {
                let text = String::from_utf8(body.collect().await?.to_vec())?;
                ctx.subject().set_value(text.split_whitespace().map(str::to_owned).collect::<Vec<_>>());
            }
        }
        Ok(())
    });
    Ok(())
});

#[tokio::test]
async fn on_call_respond_and_on_call_receive_transform_values() {
    let app = test_application(|app| {
        app.install(SHOUT, ());
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            let words: Vec<String> = ctx.call().receive().await?;
            ctx.call().respond(words.join("-")).await
        });
    })
    .await;
    let response = app.client().post("/").text("one two three").send().await;
    assert_eq!(response.text().await, "ONE-TWO-THREE");
}

type Events = Arc<Mutex<Vec<String>>>;

fn hooks_plugin(events: Events) -> impl FnOnce(&mut Application) + 'static {
    move |app| {
        app.install(
            create_application_plugin::<Events>("Hooks", |plugin, events| {
                let on_setup = Arc::clone(&events);
                let on_failed = Arc::clone(&events);
                let on_sent = Arc::clone(&events);
                plugin.on(CallSetup, move |call| {
                    on_setup.lock().unwrap().push(format!("setup {}", call.request().path()));
                    async { Ok(()) }
                });
                plugin.on(CallFailed, move |call, error| {
                    on_failed.lock().unwrap().push(format!("failed {error}"));
                    async move {
                        if call.request().path() == "/recover" {
                            call.respond_with_status(StatusCode::SERVICE_UNAVAILABLE, "try later").await?;
                        }
                        Ok(())
                    }
                });
                plugin.on(ResponseSent, move |call| {
                    on_sent.lock().unwrap().push(format!("sent handled={}", call.is_handled()));
                    async { Ok(()) }
                });
                Ok(())
            }),
            events,
        );
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            match ctx.call().request().path() {
                "/ok" => ctx.call().respond_text("fine").await,
                _ => Err(Error::internal("database down")),
            }
        });
    }
}

#[tokio::test]
async fn hooks_run_at_call_setup_on_failure_and_after_the_response() {
    let events = Events::default();
    let app = test_application(hooks_plugin(Arc::clone(&events))).await;

    assert_eq!(app.client().get("/ok").send().await.status(), 200);
    assert_eq!(*events.lock().unwrap(), ["setup /ok", "sent handled=true"]);
    events.lock().unwrap().clear();

    // A CallFailed handler that answers the call handles the error.
    let response = app.client().get("/recover").send().await;
    assert_eq!(response.status(), 503);
    assert!(response.error().is_none());
    assert_eq!(response.text().await, "try later");
    assert_eq!(*events.lock().unwrap(), ["setup /recover", "failed database down", "sent handled=true"]);
    events.lock().unwrap().clear();

    // One that does not answer lets the error go on to the default handling.
    let response = app.client().get("/fail").send().await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.error().unwrap().message(), "database down");
    assert_eq!(*events.lock().unwrap(), ["setup /fail", "failed database down", "sent handled=true"]);
}

const FRAGILE: ApplicationPlugin<()> = create_application_plugin("Fragile", |plugin, _config| {
    plugin.on(CallFailed, |call, error| async move {
        // A handler that itself fails: its error replaces the original; it is not called again.
        call.response().set_header("x-seen", "1")?;
        Err(Error::internal(format!("handler failed while handling: {error}")))
    });
    Ok(())
});

#[tokio::test]
async fn a_failing_call_failed_handler_does_not_loop() {
    let app = test_application(|app| {
        app.install(FRAGILE, ());
        app.intercept(&ApplicationCallPipeline::CALL, |_ctx| async move { Err(Error::bad_request("bad")) });
    })
    .await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 500);
    assert_eq!(response.header("x-seen"), Some("1"));
    assert_eq!(response.error().unwrap().message(), "handler failed while handling: bad");
}

#[tokio::test]
async fn plugins_use_the_same_pipelines_a_user_does() {
    // The receive pipeline a plugin sees is the application's: a Before interceptor registered by a module
    // runs for a plugin-converted receive too.
    let seen = Arc::new(AtomicUsize::new(0));
    let counter = Arc::clone(&seen);
    let app = test_application(move |app| {
        app.install(SHOUT, ());
        app.receive_pipeline_mut().intercept(&ApplicationReceivePipeline::BEFORE, move |_ctx| {
            counter.fetch_add(1, Ordering::SeqCst);
            async { Ok(()) }
        });
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            let words: Vec<String> = ctx.call().receive().await?;
            ctx.call().respond(words.len().to_string()).await
        });
    })
    .await;
    assert_eq!(app.client().post("/").text("a b").send().await.text().await, "2");
    assert_eq!(seen.load(Ordering::SeqCst), 1);
}
