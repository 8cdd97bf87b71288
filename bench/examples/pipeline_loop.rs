//! Runs one case of the pipeline, call and rendering benchmarks in a loop, for `valgrind --tool=callgrind`
//! (instructions per iteration) and `perf stat -e task-clock`: figures that do not depend on the machine's
//! load the way criterion's wall-clock times do.
//!
//! ```sh
//! cargo build --profile bench -p rotor-bench --example pipeline_loop
//! valgrind --tool=callgrind target/release/examples/pipeline_loop sync 20 100000
//! ```
//!
//! Arguments: the case (`sync`, `async`, `sync+proceed`, `async+proceed` followed by the number of no-op
//! interceptors; `call`; `text`; `json`), then the number of iterations. Subtract a run with 0 iterations (the
//! set-up) before dividing.

use std::hint::black_box;

use rotor::plugins::content_negotiation::NegotiateExt;
use rotor_bench::{HELLO, Kind, new_call, noop_pipeline, render_application};

fn main() {
    let mut args = std::env::args().skip(1);
    let case = args.next().unwrap_or_else(|| "sync".to_owned());
    // The pipeline cases run on a runtime like the pipeline benchmark's (no drivers); the call cases, like the
    // call benchmark's, with the time driver that `rotor-test` uses.
    let runtime = if std::env::var_os("ROTOR_LOOP_DRIVERS").is_some() || !case.contains("sync") {
        tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
    } else {
        tokio::runtime::Builder::new_current_thread().build().expect("runtime")
    };
    let (kind, proceeding) = match case.as_str() {
        "sync" => (Some(Kind::Sync), false),
        "async" => (Some(Kind::Async), false),
        "sync+proceed" => (Some(Kind::Sync), true),
        "async+proceed" => (Some(Kind::Async), true),
        _ => (None, false),
    };
    if let Some(kind) = kind {
        let count: usize = args.next().map_or(1, |n| n.parse().expect("the number of interceptors"));
        let iterations: usize = args.next().map_or(1_000_000, |n| n.parse().expect("the number of iterations"));
        let pipeline = noop_pipeline(count, kind, proceeding);
        runtime.block_on(async {
            for _ in 0..iterations {
                black_box(pipeline.execute((), black_box(0)).await.expect("no-op interceptors succeed"));
            }
        });
        return;
    }
    let iterations: usize = args.next().map_or(1_000_000, |n| n.parse().expect("the number of iterations"));
    match case.as_str() {
        "call" => {
            let app = runtime.block_on(rotor_test::test_application(rotor_bench::plaintext_module));
            let client = app.client();
            runtime.block_on(async {
                for _ in 0..iterations {
                    black_box(client.get("/plaintext").send().await.status());
                }
            });
        }
        "text" | "json" => {
            let app = render_application();
            let json = case == "json";
            runtime.block_on(async {
                for _ in 0..iterations {
                    let call = new_call(&app);
                    if json {
                        call.respond_negotiated(HELLO).await.expect("rendered");
                    } else {
                        call.respond_text("Hello, World!").await.expect("rendered");
                    }
                    black_box(call.response().take_http_response());
                }
            });
        }
        other => panic!("unknown case {other:?}: sync, async, sync+proceed, async+proceed, call, text, json"),
    }
}
