//! Resolves the routing benchmark's requests in a loop, for `perf stat` / `perf record`: cycles and
//! instructions per resolution do not depend on the machine's load the way criterion's wall-clock times do.
//!
//! ```sh
//! cargo build --profile bench -p rotor-bench --example resolve_loop
//! perf stat -e cycles:u,instructions:u target/release/examples/resolve_loop rotor 1000 10000000
//! perf stat -e cycles:u,instructions:u target/release/examples/resolve_loop matchit 1000 10000000
//! ```
//!
//! Arguments: the router (`rotor` or `matchit`), the number of routes, the number of resolutions. Subtract a
//! run with 0 resolutions (the set-up) before dividing. `PROBES=<text>` keeps only the requests whose path
//! contains the text.

use std::hint::black_box;

use rotor::routing::RoutingRequest;
use rotor_bench::routing::{MatchitRouter, RotorRouter, probes, rest_routes};

fn main() {
    let mut args = std::env::args().skip(1);
    let router = args.next().unwrap_or_else(|| "rotor".to_owned());
    let n: usize = args.next().map_or(1_000, |n| n.parse().expect("the number of routes"));
    let iterations: usize = args.next().map_or(10_000_000, |n| n.parse().expect("the number of resolutions"));
    let routes = rest_routes(n);
    let mut probes = probes(&routes, 100);
    // `PROBES=comments` keeps the requests whose path contains `comments`, to look at one kind of request.
    if let Ok(filter) = std::env::var("PROBES") {
        probes.retain(|probe| probe.path.contains(&filter));
        assert!(!probes.is_empty(), "no request path contains {filter:?}");
    }
    match router.as_str() {
        "rotor" => {
            let rotor = RotorRouter::new(&routes);
            let root = rotor.root();
            for i in 0..iterations {
                let probe = &probes[i % probes.len()];
                black_box(root.resolve(&RoutingRequest::new(black_box(&probe.method), black_box(&probe.path))))
                    .expect("a well-formed path");
            }
        }
        "matchit" => {
            let matchit = MatchitRouter::new(&routes);
            for i in 0..iterations {
                let probe = &probes[i % probes.len()];
                black_box(matchit.find(black_box(&probe.method), black_box(&probe.path)));
            }
        }
        other => panic!("unknown router {other:?}: use rotor or matchit"),
    }
}
