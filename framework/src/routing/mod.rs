//! Routing: a tree of routes, each a pipeline of its own, resolved with Ktor's semantics.
//!
//! [`Application::routing`](crate::Application::routing) installs routing as an interceptor in the Call phase (the first call installs
//! it; later calls add to the same tree) and configures the tree's root [`Route`]:
//!
//! ```
//! use rotor::prelude::*;
//!
//! async fn show(call: ApplicationCall) -> rotor::Result<()> {
//!     let id: u64 = call.parameters().require("id")?;
//!     call.respond_text(format!("item {id}")).await
//! }
//!
//! fn module(app: &mut Application) {
//!     app.routing(|r| {
//!         r.route("/items", |r| {
//!             r.get("/{id}", show);
//!             r.get("/{id}.json", |call: ApplicationCall| async move { call.respond_text("json").await });
//!         });
//!     });
//!     app.routing(|r| {
//!         r.get("/files/{path...}", |call: ApplicationCall| async move {
//!             let parts: Vec<String> = call.parameters().get_all("path").map(str::to_owned).collect();
//!             call.respond_text(parts.join("|")).await
//!         });
//!     });
//! }
//!
//! # #[tokio::main(flavor = "current_thread")]
//! # async fn main() {
//! let app = rotor_test::test_application(module).await;
//! assert_eq!(app.client().get("/items/3").send().await.text().await, "item 3");
//! assert_eq!(app.client().get("/items/3.json").send().await.text().await, "json");
//! assert_eq!(app.client().get("/files/a/b%2Fc").send().await.text().await, "a|b/c");
//! assert_eq!(app.client().delete("/items/3").send().await.status(), 405);
//! assert_eq!(app.client().get("/nothing").send().await.status(), 404);
//! # }
//! ```
//!
//! # Path patterns
//! A path is split on `/` (empty segments are ignored). Each segment is one of:
//! - a constant, percent-decoded when declared (`"/hi there"` and `"/hi%20there"` both match `/hi%20there`);
//! - `{name}`: any non-empty segment, captured; `{name?}`: optional; `*`: any non-empty segment, not captured;
//! - `{...}` / `{name...}`: a tailcard, every remaining segment (possibly none), captured as several values;
//! - a parameter with a constant prefix and/or suffix: `user-{name}`, `{id}.json`, `prefix-{rest...}`.
//!
//! A pattern ending in `/` requires the request to end with `/` (unless [`IgnoreTrailingSlash`] is installed);
//! one not ending in `/` does not match a request that does.
//!
//! # Selectors beyond the path
//! [`Route::method`] (and `get`, `post`…), [`Route::param`], [`Route::param_value`], [`Route::optional_param`],
//! [`Route::header`], [`Route::accept`], [`Route::content_type`], [`Route::host`] and [`Route::port`].
//!
//! # Resolution
//! Ktor's: the tree is walked depth first in declaration order; each selector that matches has a
//! [quality] (constant 1.0, prefixed/suffixed parameter 0.9, parameter 0.8, wildcard 0.5, missing
//! optional 0.2, tailcard 0.1); of the routes with handlers that match the whole path, the better one wins by
//! comparing qualities along the path from the root, and ties go to the earlier declaration. Constant children
//! are found through an index, so resolution does not slow down as they grow in number. Common requests are
//! answered without the walk: a compiled index of the tree (built on the first resolution, rebuilt after any
//! change) finds the route the walk would, and hands the request to the walk whenever it cannot be sure.
//!
//! When no route matches, the call is left to the rest of the pipeline (a Fallback interceptor may still
//! answer it) and then answered with: 405 with `Allow` when the path matched and only the method failed, 400
//! when a query parameter or header was missing, 406 for `Accept`, 415 for `Content-Type`, else 404. Unlike
//! Ktor, 405/400/406/415 apply to paths with parameters too (`POST /users/7` against `get("/users/{id}")`
//! is 405). A malformed percent escape in the path answers 400.
//!
//! # Tracing
//! With `tracing` enabled at `TRACE` for target `rotor::routing`, each resolution is logged as a
//! [`RouteTrace`]. In development mode the trace is kept on the call ([`route_trace`]), and a 404 answer lists
//! the routes closest to the request.
//!
//! # Panics
//! Declaring an invalid pattern panics with a message naming it: an empty parameter name (`{}`), two
//! parameters in one segment, an unbalanced brace, anything after a tailcard, or a malformed percent escape.

mod compiled;
mod ignore_trailing_slash;
mod media;
mod parameter_name;
mod path_pattern;
mod request;
mod request_path;
mod resolve;
mod route;
mod routing_root;
mod selector;
mod trace;

pub use ignore_trailing_slash::IgnoreTrailingSlash;
pub use request::{HEAD_AS_GET, RoutingRequest};
pub use request_path::RequestPath;
pub use resolve::{Failed, Matched, Resolution};
pub use route::{Route, RoutePipelines};
pub use routing_root::routing_root;
pub use selector::{HOST_PARAMETER, PORT_PARAMETER, RouteSelector, quality};
pub use trace::{RouteTrace, TraceEntry, TraceOutcome, route_trace};
