//! The resolution trace: how routing decided, node by node.

use std::fmt;
use std::sync::Arc;

use http::StatusCode;

use super::RoutingRequest;
use super::resolve::{Resolution, Step};
use super::route::Route;
use crate::call::{ApplicationCall, AttributeKey};

/// The most routes a trace lists as closest to a request that matched none.
const CLOSEST_LIMIT: usize = 10;

/// The call attribute a trace is kept under in development mode.
pub(crate) const ROUTE_TRACE: AttributeKey<Arc<RouteTrace>> = AttributeKey::new("rotor.routing.RouteTrace");

/// How routing resolved one request, node by node (Ktor's `RoutingResolveTrace`): every selector tried, with
/// its quality or why it failed, the candidate routes, the result, and for a failure the routes closest to the
/// request. Its `Display` form is the text logged at `TRACE` on target `rotor::routing`.
///
/// In development mode, routing keeps the trace of each call; read it with [`route_trace`](super::route_trace).
///
/// ```
/// use rotor::environment::ApplicationEnvironment;
/// use rotor::http::Method;
/// use rotor::routing::{Route, RoutingRequest};
///
/// let mut root = Route::root(ApplicationEnvironment::default());
/// root.get("/users/{id}", |call| async move { call.respond_text("user").await });
/// let (_, trace) = root.resolve_traced(&RoutingRequest::new(&Method::POST, "/users/7")).unwrap();
/// let text = trace.to_string();
/// assert!(text.contains("/users/{id}/(method:GET), segment:2 -> FAILED 405"), "{text}");
/// assert_eq!(trace.closest_routes(), ["/users/{id}/(method:GET)"]);
/// ```
#[derive(Clone, Debug)]
pub struct RouteTrace {
    request: String,
    segments: Vec<String>,
    entries: Vec<TraceEntry>,
    candidates: Vec<String>,
    result: String,
    matched: bool,
    closest: Vec<String>,
}

/// One step of a [`RouteTrace`]: a route tried at a segment index, and what came of it.
#[derive(Clone, Debug, PartialEq)]
pub struct TraceEntry {
    /// How deep the route is in the tree (the root is 0).
    pub depth: usize,
    /// The route's path (`/users/{id}/(method:GET)`).
    pub route: String,
    /// The index of the path segment it was tried at.
    pub segment_index: usize,
    /// What came of it.
    pub outcome: TraceOutcome,
}

/// What came of trying a route.
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub enum TraceOutcome {
    /// The selector matched with this quality; its children were tried next.
    Matched {
        /// The selector's quality.
        quality: f64,
    },
    /// The selector did not match.
    Failed {
        /// The failure's quality (method 0.02, parameter 0.01, path 0).
        quality: f64,
        /// The status this failure would answer with.
        status: StatusCode,
    },
    /// The selector matched but the route was not followed.
    Skipped {
        /// The selector's quality.
        quality: f64,
        /// Why: a better sibling matched already, or the route cannot consume the remaining segments.
        reason: &'static str,
    },
    /// Constant children that do not match the segment, passed over through the index.
    ConstantsSkipped {
        /// How many.
        count: usize,
    },
}

impl RouteTrace {
    /// The steps, in the order they were taken.
    pub fn entries(&self) -> &[TraceEntry] {
        &self.entries
    }

    /// The decoded path segments the request was resolved with.
    pub fn segments(&self) -> &[String] {
        &self.segments
    }

    /// The routes with handlers that matched the whole path, in the order they were found.
    pub fn candidates(&self) -> &[String] {
        &self.candidates
    }

    /// True when a route matched.
    pub fn is_matched(&self) -> bool {
        self.matched
    }

    /// The outcome in a line: the route matched, or the failure status.
    pub fn result(&self) -> &str {
        &self.result
    }

    /// For a request that matched nothing, the routes with handlers below the deepest routes the request
    /// reached (at most ten); empty when a route matched.
    pub fn closest_routes(&self) -> &[String] {
        &self.closest
    }
}

impl fmt::Display for RouteTrace {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "Trace for {} {:?}", self.request, self.segments)?;
        for entry in &self.entries {
            let indent = "  ".repeat(entry.depth);
            write!(f, "{indent}{}, segment:{} -> ", entry.route, entry.segment_index)?;
            match &entry.outcome {
                TraceOutcome::Matched { quality } => writeln!(f, "MATCHED (quality {quality})")?,
                TraceOutcome::Failed { quality, status } => {
                    writeln!(f, "FAILED {} (quality {quality})", status.as_u16())?;
                }
                TraceOutcome::Skipped { quality, reason } => writeln!(f, "SKIPPED (quality {quality}): {reason}")?,
                TraceOutcome::ConstantsSkipped { count } => {
                    writeln!(f, "{count} constant child(ren) not matching the segment, skipped by index")?;
                }
            }
        }
        writeln!(f, "Matched routes:")?;
        if self.candidates.is_empty() {
            writeln!(f, "  none")?;
        }
        for candidate in &self.candidates {
            writeln!(f, "  {candidate}")?;
        }
        write!(f, "Result: {}", self.result)?;
        if !self.closest.is_empty() {
            write!(f, "\nClosest routes:")?;
            for route in &self.closest {
                write!(f, "\n  {route}")?;
            }
        }
        Ok(())
    }
}

/// Collects the steps of one resolution.
#[derive(Default)]
pub(crate) struct TraceRecorder<'r> {
    segments: Vec<String>,
    entries: Vec<TraceEntry>,
    candidates: Vec<String>,
    deepest_index: usize,
    deepest: Vec<&'r Route>,
}

impl<'r> TraceRecorder<'r> {
    pub(crate) fn start(&mut self, segments: &[std::borrow::Cow<'_, str>]) {
        self.segments = segments.iter().map(|segment| segment.to_string()).collect();
    }

    fn push(&mut self, route: &Route, segment_index: usize, depth: usize, outcome: TraceOutcome) {
        let route = route.to_string();
        self.entries.push(TraceEntry { depth, route, segment_index, outcome });
    }

    pub(crate) fn failed(&mut self, route: &Route, index: usize, depth: usize, quality: f64, status: StatusCode) {
        self.push(route, index, depth, TraceOutcome::Failed { quality, status });
    }

    pub(crate) fn skipped(&mut self, route: &Route, index: usize, depth: usize, quality: f64, reason: &'static str) {
        self.push(route, index, depth, TraceOutcome::Skipped { quality, reason });
    }

    pub(crate) fn matched(&mut self, route: &'r Route, index: usize, next: usize, depth: usize, quality: f64) {
        self.push(route, index, depth, TraceOutcome::Matched { quality });
        if next > self.deepest_index || self.deepest.is_empty() {
            self.deepest_index = next;
            self.deepest.clear();
        }
        if next == self.deepest_index {
            self.deepest.push(route);
        }
    }

    pub(crate) fn constants_skipped(&mut self, parent: &Route, index: usize, depth: usize, count: usize) {
        let outcome = TraceOutcome::ConstantsSkipped { count };
        self.entries.push(TraceEntry {
            depth: depth + 1,
            route: format!("{parent} children"),
            segment_index: index,
            outcome,
        });
    }

    pub(crate) fn candidate(&mut self, trail: &[Step<'_>]) {
        let qualities: Vec<String> = trail.iter().map(|step| step.quality.to_string()).collect();
        let leaf = trail.last().map(|step| step.route.to_string()).unwrap_or_default();
        self.candidates.push(format!("{leaf} (qualities {})", qualities.join(", ")));
    }

    pub(crate) fn finish(self, request: &RoutingRequest<'_>, resolution: &Resolution<'_, '_>) -> RouteTrace {
        let (result, matched, closest) = match resolution {
            Resolution::Matched(matched) => (format!("MATCHED {}", matched.route()), true, Vec::new()),
            Resolution::Failed(failed) => {
                let mut result = format!("FAILED {}", failed.status().as_u16());
                if !failed.allow().is_empty() {
                    let allow: Vec<&str> = failed.allow().iter().map(http::Method::as_str).collect();
                    result.push_str(&format!(" (Allow: {})", allow.join(", ")));
                }
                (result, false, closest_routes(&self.deepest))
            }
        };
        RouteTrace {
            request: format!("{} {}", request.method(), request.path()),
            segments: self.segments,
            entries: self.entries,
            candidates: self.candidates,
            result,
            matched,
            closest,
        }
    }
}

/// The routes with handlers in the subtrees of `deepest`, breadth first.
fn closest_routes(deepest: &[&Route]) -> Vec<String> {
    let mut queue: std::collections::VecDeque<&Route> = deepest.iter().copied().collect();
    let mut found = Vec::new();
    while let Some(route) = queue.pop_front() {
        if found.len() >= CLOSEST_LIMIT {
            break;
        }
        if route.handler_count() > 0 {
            let path = route.to_string();
            if !found.contains(&path) {
                found.push(path);
            }
        }
        queue.extend(route.children());
    }
    found
}

/// The trace routing kept for `call`: present in development mode (`environment.development()`) once
/// routing has resolved the call.
///
/// ```
/// use rotor::prelude::*;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::TestApplication::builder()
///     .development(true)
///     .module(|app| {
///         app.routing(|r| {
///             r.get("/", |call: ApplicationCall| async move {
///                 let trace = rotor::routing::route_trace(&call).expect("development mode");
///                 call.respond_text(trace.result().to_owned()).await
///             });
///         });
///     })
///     .build()
///     .unwrap();
/// assert_eq!(app.client().get("/").send().await.text().await, "MATCHED /<slash>/(method:GET)");
/// # }
/// ```
pub fn route_trace(call: &ApplicationCall) -> Option<Arc<RouteTrace>> {
    call.attributes().get(&ROUTE_TRACE).cloned()
}
