//! A whole call through the in-memory engine, and response rendering.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};

fn call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let app = runtime.block_on(rotor_test::test_application(rotor_bench::plaintext_module));
    let client = app.client();
    let mut group = c.benchmark_group("call");
    group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
    group.bench_function("in-memory plaintext", |b| {
        b.to_async(&runtime).iter(|| async { client.get("/plaintext").send().await.status() });
    });
    group.finish();
}

criterion_group!(benches, call);
criterion_main!(benches);
