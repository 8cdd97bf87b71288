//! Pipeline execution: 0, 1, 5 and 20 no-op interceptors, sync and async, with and without an interceptor
//! that calls `proceed`.

use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rotor_bench::{Kind, noop_pipeline};

fn pipeline(c: &mut Criterion) {
    let runtime = tokio::runtime::Builder::new_current_thread().build().expect("runtime");
    let mut group = c.benchmark_group("pipeline");
    // Short, so that the sixteen cases run in under a minute.
    group.measurement_time(Duration::from_secs(2)).warm_up_time(Duration::from_secs(1)).sample_size(30);
    for count in [0usize, 1, 5, 20] {
        for (label, kind) in [("sync", Kind::Sync), ("async", Kind::Async)] {
            for proceeding in [false, true] {
                let pipeline = noop_pipeline(count, kind, proceeding);
                let name = format!("{label}{}", if proceeding { "+proceed" } else { "" });
                group.bench_with_input(BenchmarkId::new(name, count), &pipeline, |b, pipeline| {
                    b.to_async(&runtime).iter(|| pipeline.execute((), 0));
                });
            }
        }
    }
    group.finish();
}

criterion_group!(benches, pipeline);
criterion_main!(benches);
