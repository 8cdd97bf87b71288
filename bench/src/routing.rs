//! The route sets of the routing benchmark (`benches/routing.rs`): a deterministic REST-like set of `n`
//! routes, requests that hit a spread of them, and the same set in a Rotor route tree and in a `matchit`
//! router, with a check that both resolve every request to the same route with the same parameters.
//!
//! # The route set
//! [`rest_routes`] starts with `GET /` and `GET /health`, then adds blocks of nine routes per resource `r`
//! (`users0`, `orders0`, … `tags0`, `users1`, …), until it has `n`:
//!
//! | method | pattern |
//! | --- | --- |
//! | GET, POST | `/api/v1/{r}` |
//! | GET, PUT, DELETE | `/api/v1/{r}/{id}` |
//! | GET | `/api/v1/{r}/{id}/history` |
//! | GET | `/api/v1/{r}/{id}/comments` |
//! | GET | `/api/v1/{r}/{id}/comments/{comment_id}` |
//! | GET | `/docs/{r}` (a static page) |
//!
//! So `/api/v1/` and `/docs/` get about `n / 9` constant children each: at 10,000 routes, 1,111 resources.
//!
//! # Methods in `matchit`
//! `matchit` matches paths only. As axum does, the `matchit` router maps each path pattern to a small method
//! table (`[(Method, route)]`, at most three entries here), scanned after `at()`; the benchmark times
//! `at()` plus that scan ([`MatchitRouter::find`]).

use std::collections::HashMap;

use rotor::environment::ApplicationEnvironment;
use rotor::http::Method;
use rotor::routing::{Resolution, Route, RoutingRequest};

/// The resource names, cycled (with a numeric suffix) to make as many resources as needed.
const RESOURCES: [&str; 8] = ["users", "orders", "products", "invoices", "accounts", "projects", "events", "tags"];

/// The value requests use for `{id}`.
pub const ID: &str = "12345";
/// The value requests use for `{comment_id}`.
pub const COMMENT_ID: &str = "678";

/// One route of a generated set.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RouteSpec {
    /// The method it handles.
    pub method: Method,
    /// Its Rotor path pattern (`/api/v1/users0/{id}`).
    pub rotor: String,
    /// Its `matchit` 0.8 path pattern (the same syntax for this set: `/api/v1/users0/{id}`).
    pub matchit: String,
}

/// A request of the benchmark: what to send and which route of the set it must resolve to.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Probe {
    /// The request method.
    pub method: Method,
    /// The request path (no query).
    pub path: String,
    /// The index, in the route set, of the route it must resolve to.
    pub route: usize,
    /// The path parameters it must capture, sorted by name.
    pub parameters: Vec<(String, String)>,
}

/// The name of resource number `index`: `users0`, `orders0`, …, `tags0`, `users1`, …
pub fn resource_name(index: usize) -> String {
    format!("{}{}", RESOURCES[index % RESOURCES.len()], index / RESOURCES.len())
}

/// The first `n` routes of the REST-like set described in the [module documentation](self); the same `n`
/// always gives the same routes in the same order.
pub fn rest_routes(n: usize) -> Vec<RouteSpec> {
    let route = |method: Method, pattern: String| RouteSpec { method, rotor: pattern.clone(), matchit: pattern };
    let mut routes = vec![route(Method::GET, "/".to_owned()), route(Method::GET, "/health".to_owned())];
    let mut index = 0;
    while routes.len() < n {
        let name = resource_name(index);
        let base = format!("/api/v1/{name}");
        routes.extend([
            route(Method::GET, base.clone()),
            route(Method::POST, base.clone()),
            route(Method::GET, format!("{base}/{{id}}")),
            route(Method::PUT, format!("{base}/{{id}}")),
            route(Method::DELETE, format!("{base}/{{id}}")),
            route(Method::GET, format!("{base}/{{id}}/history")),
            route(Method::GET, format!("{base}/{{id}}/comments")),
            route(Method::GET, format!("{base}/{{id}}/comments/{{comment_id}}")),
            route(Method::GET, format!("/docs/{name}")),
        ]);
        index += 1;
    }
    routes.truncate(n);
    routes
}

/// `count` requests spread evenly over `routes` (every route when `count >= routes.len()`), each with
/// [`ID`] and [`COMMENT_ID`] for its parameters.
pub fn probes(routes: &[RouteSpec], count: usize) -> Vec<Probe> {
    let count = count.min(routes.len());
    (0..count)
        .map(|k| {
            let route = k * routes.len() / count;
            let spec = &routes[route];
            let mut parameters = Vec::new();
            let path = spec
                .rotor
                .split('/')
                .map(|segment| match segment {
                    "{id}" => {
                        parameters.push(("id".to_owned(), ID.to_owned()));
                        ID
                    }
                    "{comment_id}" => {
                        parameters.push(("comment_id".to_owned(), COMMENT_ID.to_owned()));
                        COMMENT_ID
                    }
                    constant => constant,
                })
                .collect::<Vec<_>>()
                .join("/");
            parameters.sort();
            Probe { method: spec.method.clone(), path, route, parameters }
        })
        .collect()
}

/// A route set in a Rotor route tree, with each handler route's path mapped back to its index in the set.
#[derive(Debug)]
pub struct RotorRouter {
    root: Route,
    ids: HashMap<String, usize>,
}

impl RotorRouter {
    /// Declares every route of `routes` on a fresh root (default environment), in order, each with a handler
    /// that answers nothing.
    ///
    /// # Panics
    /// If two routes of the set end on the same Rotor route.
    pub fn new(routes: &[RouteSpec]) -> Self {
        let mut root = Route::root(ApplicationEnvironment::default());
        let mut ids = HashMap::with_capacity(routes.len());
        for (index, spec) in routes.iter().enumerate() {
            let route = root.on(spec.method.clone(), &spec.rotor, |_call| async { Ok(()) });
            let previous = ids.insert(route.path().to_owned(), index);
            assert!(previous.is_none(), "two routes of the set end on {}", route.path());
        }
        RotorRouter { root, ids }
    }

    /// The root of the tree, to resolve against (`root().resolve(&RoutingRequest::new(..))`).
    pub fn root(&self) -> &Route {
        &self.root
    }

    /// The index of the route `method path` resolves to and its parameters sorted by name, or `None` when it
    /// resolves to nothing (or fails with a malformed path).
    pub fn find(&self, method: &Method, path: &str) -> Option<(usize, Vec<(String, String)>)> {
        let Ok(Resolution::Matched(matched)) = self.root.resolve(&RoutingRequest::new(method, path)) else {
            return None;
        };
        let index = *self.ids.get(matched.route().path())?;
        let mut parameters: Vec<(String, String)> =
            matched.parameters().iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();
        parameters.sort();
        Some((index, parameters))
    }
}

/// A route set in a `matchit` router: each path pattern maps to its method table (method, index in the set).
#[derive(Debug)]
pub struct MatchitRouter {
    router: matchit::Router<Vec<(Method, usize)>>,
}

impl MatchitRouter {
    /// Inserts every route of `routes`, grouping the methods of one pattern.
    ///
    /// # Panics
    /// If `matchit` refuses a pattern (a conflict), or a pattern has the same method twice.
    pub fn new(routes: &[RouteSpec]) -> Self {
        let mut tables: Vec<(&str, Vec<(Method, usize)>)> = Vec::new();
        let mut positions: HashMap<&str, usize> = HashMap::new();
        for (index, spec) in routes.iter().enumerate() {
            let position = *positions.entry(&spec.matchit).or_insert_with(|| {
                tables.push((&spec.matchit, Vec::new()));
                tables.len() - 1
            });
            let table = &mut tables[position].1;
            assert!(!table.iter().any(|(method, _)| *method == spec.method), "{} {} twice", spec.method, spec.matchit);
            table.push((spec.method.clone(), index));
        }
        let mut router = matchit::Router::new();
        for (pattern, table) in tables {
            router.insert(pattern, table).unwrap_or_else(|error| panic!("matchit refuses {pattern}: {error}"));
        }
        MatchitRouter { router }
    }

    /// The underlying `matchit` router.
    pub fn router(&self) -> &matchit::Router<Vec<(Method, usize)>> {
        &self.router
    }

    /// What the benchmark times: `at(path)`, then the method table scanned for `method`. Returns the route's
    /// index and the captured parameters.
    #[inline]
    pub fn find<'m, 'p>(&'m self, method: &Method, path: &'p str) -> Option<(usize, matchit::Params<'m, 'p>)> {
        let matched = self.router.at(path).ok()?;
        let index = matched.value.iter().find(|(candidate, _)| candidate == method)?.1;
        Some((index, matched.params))
    }

    /// Like [`find`](Self::find), with the parameters owned and sorted by name.
    pub fn find_owned(&self, method: &Method, path: &str) -> Option<(usize, Vec<(String, String)>)> {
        let (index, params) = self.find(method, path)?;
        let mut parameters: Vec<(String, String)> =
            params.iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect();
        parameters.sort();
        Some((index, parameters))
    }
}

/// Checks that both routers resolve every probe to its route with its parameters.
///
/// # Errors
/// A message naming the first probe on which either router disagrees.
pub fn check_agreement(rotor: &RotorRouter, matchit: &MatchitRouter, probes: &[Probe]) -> Result<(), String> {
    for probe in probes {
        let expected = Some((probe.route, probe.parameters.clone()));
        let from_rotor = rotor.find(&probe.method, &probe.path);
        let from_matchit = matchit.find_owned(&probe.method, &probe.path);
        if from_rotor != expected || from_matchit != expected {
            return Err(format!(
                "{} {}: expected {expected:?}, rotor gave {from_rotor:?}, matchit gave {from_matchit:?}",
                probe.method, probe.path
            ));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_set_has_n_distinct_routes() {
        for n in [10, 100, 1_000, 10_000] {
            let routes = rest_routes(n);
            assert_eq!(routes.len(), n);
            let distinct: std::collections::HashSet<_> = routes.iter().map(|r| (&r.method, &r.rotor)).collect();
            assert_eq!(distinct.len(), n);
        }
        assert_eq!(rest_routes(100), rest_routes(100));
        assert_eq!(rest_routes(10)[2].rotor, "/api/v1/users0");
        assert_eq!(
            rest_routes(10_000).last().map(|r| r.rotor.as_str()),
            Some("/api/v1/events138/{id}/comments/{comment_id}")
        );
    }

    #[test]
    fn probes_spread_over_the_set() {
        let routes = rest_routes(1_000);
        let spread = probes(&routes, 100);
        assert_eq!(spread.len(), 100);
        assert_eq!(spread[0].route, 0);
        assert_eq!(spread[99].route, 990);
        let with_comment = probes(&rest_routes(10), 10).pop().unwrap();
        assert_eq!(with_comment.path, "/api/v1/users0/12345/comments/678");
        assert_eq!(
            with_comment.parameters,
            [("comment_id".to_owned(), "678".to_owned()), ("id".to_owned(), "12345".to_owned())]
        );
    }

    #[test]
    fn rotor_and_matchit_agree_on_every_route() {
        for n in [10, 100, 1_000, 10_000] {
            let routes = rest_routes(n);
            let (rotor, matchit) = (RotorRouter::new(&routes), MatchitRouter::new(&routes));
            check_agreement(&rotor, &matchit, &probes(&routes, n)).unwrap();
        }
    }

    #[test]
    fn both_miss_the_same_way() {
        let routes = rest_routes(100);
        let (rotor, matchit) = (RotorRouter::new(&routes), MatchitRouter::new(&routes));
        for (method, path) in [
            (Method::GET, "/api/v1/nothing"),
            (Method::PATCH, "/api/v1/users0/1"),
            (Method::GET, "/api/v1/users0/1/unknown"),
        ] {
            assert_eq!(rotor.find(&method, path), None, "{method} {path}");
            assert_eq!(matchit.find_owned(&method, path), None, "{method} {path}");
        }
    }
}
