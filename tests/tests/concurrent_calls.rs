//! Many calls at once through the whole stack on a multi-threaded runtime: every call gets its own answer.

use std::sync::Arc;

use rotor::prelude::*;
use rotor_test::test_application;

fn module(app: &mut Application) {
    app.intercept(&ApplicationCallPipeline::PLUGINS, |ctx| async move {
        let id = ctx.call().parameters().require::<u32>("id")?;
        ctx.call().response().set_header("x-id", id.to_string())?;
        tokio::task::yield_now().await;
        ctx.proceed().await
    });
    hello::module(app);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_concurrent_calls_each_get_their_own_answer() {
    let app = Arc::new(test_application(module).await);
    let mut tasks = Vec::new();
    for id in 0..1000u32 {
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let body = format!("body of call {id}");
            let response = app.client().post("/echo").query("id", &id.to_string()).text(body.clone()).send().await;
            assert_eq!(response.status(), 200);
            assert_eq!(response.header("x-id"), Some(id.to_string().as_str()));
            assert_eq!(response.text().await, body);
        }));
    }
    for task in tasks {
        task.await.expect("a call task panicked");
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn failing_calls_do_not_disturb_their_neighbours() {
    let app = Arc::new(test_application(module).await);
    let mut tasks = Vec::new();
    for id in 0..200u32 {
        let app = Arc::clone(&app);
        tasks.push(tokio::spawn(async move {
            let client = app.client();
            let request = if id % 2 == 0 { client.get("/").query("id", &id.to_string()) } else { client.get("/") };
            let response = request.send().await;
            if id % 2 == 0 {
                assert_eq!(response.status(), 200);
                assert_eq!(response.text().await, "Hello, world!");
            } else {
                assert_eq!(response.status(), 400, "the missing `id` parameter is a bad request");
                assert!(response.error().unwrap().to_string().contains("`id`"));
            }
        }));
    }
    for task in tasks {
        task.await.expect("a call task panicked");
    }
}
