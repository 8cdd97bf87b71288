//! Response rendering: `respond_text` and JSON through ContentNegotiation, from the value to the
//! `http::Response` an engine writes (the send pipeline, rendering, committing, taking the response). The call
//! is made, and dropped with the response, outside the measurement.

use std::time::Duration;

use criterion::{BatchSize, Criterion, criterion_group, criterion_main};
use rotor::plugins::content_negotiation::NegotiateExt;
use rotor_bench::{HELLO, new_call, render_application};

fn render(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let app = render_application();
    let mut group = c.benchmark_group("render");
    group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
    group.bench_function("text", |b| {
        b.to_async(&runtime).iter_batched(
            || new_call(&app),
            |call| async move {
                call.respond_text("Hello, World!").await.expect("rendered");
                (call.response().take_http_response(), call)
            },
            BatchSize::SmallInput,
        );
    });
    group.bench_function("json", |b| {
        b.to_async(&runtime).iter_batched(
            || new_call(&app),
            |call| async move {
                call.respond_negotiated(HELLO).await.expect("rendered");
                (call.response().take_http_response(), call)
            },
            BatchSize::SmallInput,
        );
    });
    group.finish();
}

criterion_group!(benches, render);
criterion_main!(benches);
