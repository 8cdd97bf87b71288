//! The compiled index that answers common requests (`src/routing/compiled.rs`) must give exactly the answers
//! of the tree walk. `resolve_traced` always walks the tree, `resolve` uses the index when it can: generated
//! trees and requests check the two against each other.

use rotor::environment::ApplicationEnvironment;
use rotor::http::Method;
use rotor::routing::{Resolution, Route, RoutingRequest};

/// A small deterministic generator (xorshift64*), so a failure names a seed that reproduces it.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<T: Copy>(&mut self, items: &[T]) -> T {
        items[self.below(items.len())]
    }

    fn method(&mut self) -> Method {
        METHODS[self.below(METHODS.len())].clone()
    }
}

/// Path segments of declared routes: mostly what the index models, some of what it leaves to the walk.
const PATTERN_SEGMENTS: &[&str] = &[
    "a",
    "a",
    "b",
    "b",
    "users",
    "x.json",
    "{id}",
    "{id}",
    "{name}",
    "x-{p}",
    "{p}.json",
    "x-{q}.json",
    "*",
    "{...}",
    "{rest...}",
    "x-{t...}",
    "{opt?}",
    "hi%20there",
    "a%2Fb",
];
const METHODS: &[Method] = &[Method::GET, Method::GET, Method::POST, Method::PUT, Method::DELETE];
/// Request path segments.
const REQUEST_SEGMENTS: &[&str] =
    &["a", "b", "users", "x.json", "x-1", "1.json", "x-.json", "x-", "7", "hi%20there", "hi there", "c%2Fd", "zz"];

fn random_pattern(rng: &mut Rng) -> String {
    let depth = rng.below(4);
    let mut pattern = String::new();
    for _ in 0..depth {
        pattern.push('/');
        pattern.push_str(rng.pick(PATTERN_SEGMENTS));
        if pattern.contains("...}") {
            break;
        }
    }
    if rng.below(6) == 0 && !pattern.contains("...}") {
        pattern.push('/');
    }
    pattern
}

fn handler_route(route: &mut Route) {
    route.handle(|call| async move { call.respond_text("x").await });
}

/// Declares a random route on `route`; sometimes nests, sometimes adds a selector the index does not model.
fn declare(rng: &mut Rng, route: &mut Route, level: usize) {
    let pattern = random_pattern(rng);
    match rng.below(14) {
        0 if level < 2 => {
            route.route(&pattern, |nested| {
                for _ in 0..1 + rng.below(3) {
                    declare(rng, nested, level + 1);
                }
            });
        }
        1 => {
            route.route(&pattern, handler_route);
        }
        2 => {
            route.route(&pattern, |r| {
                r.header("x-v", "1", |r| {
                    r.get("", |call| async move { call.respond_text("h").await });
                });
            });
        }
        3 => {
            route.route(&pattern, |r| {
                r.param("q", |r| {
                    r.get("", |call| async move { call.respond_text("q").await });
                });
            });
        }
        4 if level < 2 => {
            let method = rng.method();
            route.method(method, |r| {
                r.get(&pattern, |call| async move { call.respond_text("m").await });
            });
        }
        _ => {
            let method = rng.method();
            route.on(method, &pattern, |call| async move { call.respond_text("r").await });
        }
    }
}

fn random_path(rng: &mut Rng) -> String {
    let depth = rng.below(5);
    let mut path = String::new();
    for _ in 0..depth {
        path.push('/');
        if rng.below(10) == 0 {
            path.push('/');
        }
        path.push_str(rng.pick(REQUEST_SEGMENTS));
    }
    if path.is_empty() || rng.below(6) == 0 {
        path.push('/');
    }
    path
}

/// What a resolution answered, comparable between the two ways.
fn outcome(resolution: &Resolution<'_, '_>) -> String {
    match resolution {
        Resolution::Matched(matched) => {
            let parameters: Vec<String> =
                matched.parameters().iter().map(|(name, value)| format!("{name}={value}")).collect();
            format!("matched {} [{}] quality {}", matched.route().path(), parameters.join(", "), matched.quality())
        }
        Resolution::Failed(failed) => format!("failed {} allow {:?}", failed.status(), failed.allow()),
    }
}

fn check(root: &Route, request: &RoutingRequest<'_>, context: impl Fn() -> String) -> bool {
    let walked = root.resolve_traced(request).map(|(resolution, _)| outcome(&resolution));
    let indexed = root.resolve(request).map(|resolution| outcome(&resolution));
    match (walked, indexed) {
        (Ok(walked), Ok(indexed)) => {
            assert_eq!(indexed, walked, "{}", context());
            walked.starts_with("matched")
        }
        (Err(walked), Err(indexed)) => {
            assert_eq!(indexed.status(), walked.status(), "{}", context());
            false
        }
        (walked, indexed) => panic!("{}: walk {walked:?}, index {indexed:?}", context()),
    }
}

#[test]
fn the_index_answers_like_the_walk() {
    let mut matched = 0;
    let mut requests = 0;
    for seed in 1..=3_000u64 {
        let mut rng = Rng(seed.wrapping_mul(0x9E37_79B9_7F4A_7C15) | 1);
        let mut root = Route::root(ApplicationEnvironment::default());
        for _ in 0..1 + rng.below(12) {
            declare(&mut rng, &mut root, 0);
        }
        for _ in 0..40 {
            let path = random_path(&mut rng);
            let method = [Method::GET, Method::POST, Method::PUT, Method::DELETE, Method::HEAD][rng.below(5)].clone();
            let head_as_get = rng.below(8) == 0;
            let request = RoutingRequest::new(&method, &path).head_as_get(head_as_get).query_string("q=1");
            let context = || format!("seed {seed}: {method} {path} (head as get: {head_as_get}) in {root:#?}");
            requests += 1;
            if check(&root, &request, context) {
                matched += 1;
            }
        }
    }
    // The generated cases must exercise matches, not only failures.
    assert!(matched * 10 > requests, "only {matched} of {requests} requests matched");
}

#[test]
fn the_index_follows_changes_to_the_tree() {
    let mut root = Route::root(ApplicationEnvironment::default());
    root.get("/users/{id}", |call| async move { call.respond_text("id").await });
    let request = RoutingRequest::new(&Method::GET, "/users/me");
    let Resolution::Matched(before) = root.resolve(&request).unwrap() else { panic!("no match") };
    assert_eq!(before.route().path(), "/users/{id}/(method:GET)");
    assert_eq!(before.parameter("id"), Some("me"));
    drop(before);

    // A deeper change, made through a nested route, reaches the index too.
    root.route("/users", |users| {
        users.get("/me", |call| async move { call.respond_text("me").await });
    });
    let Resolution::Matched(after) = root.resolve(&request).unwrap() else { panic!("no match") };
    assert_eq!(after.route().path(), "/users/me/(method:GET)");
    assert!(after.parameters().is_empty());
}

#[test]
fn the_benchmark_route_set_resolves_through_the_index_like_the_walk() {
    // The shape of `bench/`'s REST set, with a root path, checked request by request.
    let environment = ApplicationEnvironment::builder().root_path("/app").build();
    let mut root = Route::root(environment);
    for name in ["users0", "orders0", "users1"] {
        let base = format!("/api/v1/{name}");
        root.get(&base, |call| async move { call.respond_text("list").await });
        root.post(&base, |call| async move { call.respond_text("create").await });
        root.get(&format!("{base}/{{id}}"), |call| async move { call.respond_text("one").await });
        root.delete(&format!("{base}/{{id}}"), |call| async move { call.respond_text("gone").await });
        root.get(&format!("{base}/{{id}}/comments/{{comment_id}}"), |call| async move {
            call.respond_text("comment").await
        });
    }
    root.get("/", |call| async move { call.respond_text("home").await });
    let mut matched = 0;
    for path in [
        "/app/api/v1/users0",
        "/app/api/v1/users1/7",
        "/app/api/v1/orders0/7/comments/9",
        "/app/api/v1/users0/7/comments",
        "/api/v1/users0",
        "/app",
        "/app/",
        "/app/api/v1/nope/7",
    ] {
        for method in [Method::GET, Method::POST, Method::DELETE, Method::PATCH] {
            let request = RoutingRequest::new(&method, path);
            if check(&root, &request, || format!("{method} {path}")) {
                matched += 1;
            }
        }
    }
    // GET and POST on the list, GET and DELETE on one, GET on a comment, GET `/app/`.
    assert_eq!(matched, 6);
}

#[test]
fn constants_with_escapes_match_like_the_walk() {
    let mut root = Route::root(ApplicationEnvironment::default());
    root.get("/a%2Fb", |call| async move { call.respond_text("one segment").await });
    root.get("/100%25", |call| async move { call.respond_text("percent").await });
    root.get("/", |call| async move { call.respond_text("home").await });
    for path in ["/a/b", "/a%2Fb", "/a%2fb", "/100%", "/100%25", "/", "//"] {
        for method in [Method::GET, Method::POST] {
            check(&root, &RoutingRequest::new(&method, path), || format!("{method} {path}"));
        }
    }
    let Resolution::Matched(matched) = root.resolve(&RoutingRequest::new(&Method::GET, "/a%2Fb")).unwrap() else {
        panic!("no match")
    };
    assert_eq!(matched.route().path(), "/a/b/(method:GET)");
    assert!(matches!(root.resolve(&RoutingRequest::new(&Method::GET, "/a/b")).unwrap(), Resolution::Failed(_)));
    assert_eq!(root.resolve(&RoutingRequest::new(&Method::GET, "/100%")).unwrap_err().status(), 400);
}
