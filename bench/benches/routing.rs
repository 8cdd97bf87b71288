//! Routing: resolving a request among 10, 100, 1,000 and 10,000 REST-like routes, Rotor's
//! `Route::resolve` (no call) against `matchit`'s `at()` (plus a method-table scan, as axum does) on the same
//! route set and the same requests (see `rotor_bench::routing`).
//!
//! Each iteration resolves one request, cycling through up to 100 requests spread over the set, so the
//! figures are per resolution. Before measuring, each size checks that both routers resolve every request to
//! the same route with the same parameters.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, criterion_group, criterion_main};
use rotor::routing::{RequestPath, RoutingRequest};
use rotor_bench::routing::{MatchitRouter, RotorRouter, check_agreement, probes, rest_routes};

/// How many distinct requests each size cycles through.
const PROBES: usize = 100;

fn routing(c: &mut Criterion) {
    for n in [10usize, 100, 1_000, 10_000] {
        let routes = rest_routes(n);
        let probes = probes(&routes, PROBES);
        let rotor = RotorRouter::new(&routes);
        let matchit = MatchitRouter::new(&routes);
        check_agreement(&rotor, &matchit, &probes).unwrap_or_else(|error| panic!("{n} routes: {error}"));

        let mut group = c.benchmark_group(format!("routing/{n}"));
        group.measurement_time(Duration::from_secs(3)).warm_up_time(Duration::from_secs(1)).sample_size(30);
        group.bench_function(BenchmarkId::new("rotor", n), |b| {
            let root = rotor.root();
            let mut next = 0;
            b.iter(|| {
                let probe = &probes[next];
                next = (next + 1) % probes.len();
                root.resolve(&RoutingRequest::new(black_box(&probe.method), black_box(&probe.path)))
            });
        });
        group.bench_function(BenchmarkId::new("matchit", n), |b| {
            let mut next = 0;
            b.iter(|| {
                let probe = &probes[next];
                next = (next + 1) % probes.len();
                matchit.find(black_box(&probe.method), black_box(&probe.path))
            });
        });
        if n == 1_000 {
            // The part of Rotor's resolution that does not depend on the routes: splitting and decoding the path.
            group.bench_function(BenchmarkId::new("rotor-path-split", n), |b| {
                let mut next = 0;
                b.iter(|| {
                    let probe = &probes[next];
                    next = (next + 1) % probes.len();
                    RequestPath::parse(black_box(&probe.path), false)
                });
            });
        }
        group.finish();
    }
}

criterion_group!(benches, routing);
criterion_main!(benches);
