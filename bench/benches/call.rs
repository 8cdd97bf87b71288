//! A whole call through the in-memory engine, and response rendering.

use criterion::{Criterion, criterion_group, criterion_main};

fn call(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let app = runtime.block_on(rotor_test::test_application(rotor_bench::plaintext_module));
    let client = app.client();
    c.bench_function("call/in-memory plaintext", |b| {
        b.to_async(&runtime).iter(|| async { client.get("/plaintext").send().await.status() });
    });
}

criterion_group!(benches, call);
criterion_main!(benches);
