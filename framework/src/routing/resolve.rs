//! Resolution: finding the best route for a request, with Ktor's semantics.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::sync::Arc;

use http::{Method, StatusCode};

use super::RoutingRequest;
use super::compiled::CompiledTree;
use super::request_path::RequestPath;
use super::route::{PipelinesCell, Route, RoutePipelines, Slot};
use super::selector::{Evaluation, quality};
use super::trace::{RouteTrace, TraceRecorder};
use crate::Result;
use crate::call::Parameters;
use smallvec::SmallVec;

const MIN_QUALITY: f64 = f64::MIN;

/// How deep a resolved path goes before its trail, best path and chain move to the heap.
const INLINE_DEPTH: usize = 10;

/// The routes and qualities from the root to a route: the best match so far, or a candidate.
type Trail<'r> = SmallVec<[Step<'r>; INLINE_DEPTH]>;

/// A request as resolution sees it: the request and its decoded path segments.
pub(crate) struct ResolveInput<'r, 'a> {
    request: &'r RoutingRequest<'a>,
    path: RequestPath<'a>,
}

impl<'a> ResolveInput<'_, 'a> {
    pub(crate) fn segments(&self) -> &[Cow<'a, str>] {
        self.path.segments()
    }

    pub(crate) fn has_trailing_slash(&self) -> bool {
        self.path.has_trailing_slash()
    }

    pub(crate) fn ignore_trailing_slash(&self) -> bool {
        self.request.ignores_trailing_slash()
    }

    pub(crate) fn request(&self) -> &RoutingRequest<'a> {
        self.request
    }
}

/// The outcome of resolving a request against a route tree. `'r` is the tree's lifetime, `'a` the request
/// path's: captured parameters borrow the path until [`Matched::parameters`] or
/// [`Matched::into_parameters`] copies them.
#[derive(Debug)]
pub enum Resolution<'r, 'a> {
    /// A route with handlers matched.
    Matched(Matched<'r, 'a>),
    /// No route matched.
    Failed(Failed),
}

/// Path parameters captured by the compiled index: names (interned) and values borrowed from the request path.
pub(crate) type Captured<'a> = SmallVec<[(&'static str, &'a str); INLINE_CAPTURES]>;

/// How many borrowed parameters a resolution holds before they move to the heap.
const INLINE_CAPTURES: usize = 2;

/// The route a request resolved to.
#[derive(Debug)]
pub struct Matched<'r, 'a> {
    way: Way<'r>,
    /// Parameters that borrow the request path (from the compiled index); the walk's are in `lazy`.
    captured: Captured<'a>,
    /// What is built when asked for: the `Parameters`, the chain of a match from the index.
    lazy: OnceCell<Box<Lazy<'r>>>,
    quality: f64,
}

#[derive(Debug, Default)]
struct Lazy<'r> {
    parameters: OnceCell<Parameters>,
    chain: OnceCell<Box<[&'r Route]>>,
}

/// How a match knows its routes.
#[derive(Debug)]
enum Way<'r> {
    /// The routes from the root to the leaf (found by the walk).
    Routes(Box<[&'r Route]>),
    /// Found by the compiled index, which does not touch the routes themselves: the route of `node`, then its
    /// child at `method`; the chain is looked up when asked for.
    Index { root: &'r Route, found: IndexMatch<'r> },
}

/// A match found by the compiled index: the leaf is child `method` of the route of `node`.
#[derive(Debug)]
pub(crate) struct IndexMatch<'r> {
    pub(crate) tree: &'r CompiledTree,
    pub(crate) node: u32,
    pub(crate) method: u32,
    /// The leaf's merged pipelines, shared with the leaf.
    pub(crate) pipelines: &'r PipelinesCell,
    pub(crate) quality: f64,
}

impl<'r, 'a> Matched<'r, 'a> {
    pub(crate) fn from_index(root: &'r Route, found: IndexMatch<'r>, captured: Captured<'a>) -> Self {
        let quality = found.quality;
        Matched { way: Way::Index { root, found }, captured, lazy: OnceCell::new(), quality }
    }

    fn lazy(&self) -> &Lazy<'r> {
        self.lazy.get_or_init(Box::default)
    }

    /// The resolved route (the leaf, with the handlers).
    pub fn route(&self) -> &'r Route {
        let chain = self.chain();
        chain[chain.len() - 1]
    }

    /// The routes from the root to the leaf.
    pub fn chain(&self) -> &[&'r Route] {
        match &self.way {
            Way::Routes(routes) => routes,
            Way::Index { root, found } => self.lazy().chain.get_or_init(|| {
                let mut route = *root;
                let positions = found.tree.positions_to(found.node);
                let mut chain = Vec::with_capacity(positions.len() + 2);
                chain.push(route);
                for position in positions.into_iter().chain([found.method]) {
                    route = &route.children()[position as usize];
                    chain.push(route);
                }
                chain.into_boxed_slice()
            }),
        }
    }

    /// The leaf's merged pipelines, built on first use; borrowed from the route tree, so that taking them
    /// counts no reference.
    pub(crate) fn pipelines(&self, application: &crate::Application) -> Result<&'r Arc<RoutePipelines>> {
        if let Way::Index { found, .. } = &self.way {
            if let Some(built) = found.pipelines.get() {
                return Ok(built);
            }
        }
        self.route().pipelines(self.chain(), application)
    }

    /// The captured path parameters (copied out of the request path on first use).
    pub fn parameters(&self) -> &Parameters {
        self.lazy().parameters.get_or_init(|| to_parameters(&self.captured))
    }

    /// The first captured value of path parameter `name`; no copy when it needed no percent-decoding.
    pub fn parameter(&self, name: &str) -> Option<&str> {
        match self.lazy.get().and_then(|lazy| lazy.parameters.get()) {
            Some(parameters) => parameters.get(name),
            None => self.captured.iter().find(|(key, _)| *key == name).map(|(_, value)| *value),
        }
    }

    /// Takes the captured path parameters.
    pub fn into_parameters(mut self) -> Parameters {
        self.take_parameters()
    }

    /// Takes the captured path parameters out of a match that stays where it is (routing's own use: passing the
    /// match by value copied it, 136 bytes just written by the resolution). Meant for a match that is
    /// not asked for its parameters again: afterwards [`parameters`](Self::parameters) makes them again from the
    /// borrowed captures only, which a match the tree walk found does not have (its parameters were in the part
    /// taken).
    pub(crate) fn take_parameters(&mut self) -> Parameters {
        match self.lazy.get_mut().and_then(|lazy| lazy.parameters.take()) {
            Some(parameters) => parameters,
            None => to_parameters(&self.captured),
        }
    }

    /// The quality of the match: the lowest quality along the path (a transparent selector counts as 1.0).
    pub fn quality(&self) -> f64 {
        self.quality
    }
}

fn to_parameters(captured: &Captured<'_>) -> Parameters {
    let mut parameters = Parameters::new();
    for (name, value) in captured {
        parameters.append(*name, *value);
    }
    parameters
}

/// Why no route matched: the status to answer with, and for 405 the methods that would have matched.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Failed {
    status: StatusCode,
    allow: Vec<Method>,
}

impl Failed {
    /// 404, 405, 400, 406 or 415.
    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// For 405, the methods that would have matched the path, in declaration order; empty otherwise.
    pub fn allow(&self) -> &[Method] {
        &self.allow
    }
}

impl Route {
    /// Resolves `request` against the tree rooted here, with Ktor's rules (see the
    /// [module documentation](super)).
    ///
    /// ```
    /// use rotor::environment::ApplicationEnvironment;
    /// use rotor::http::Method;
    /// use rotor::routing::{Resolution, Route, RoutingRequest};
    ///
    /// let mut root = Route::root(ApplicationEnvironment::default());
    /// root.get("/users/{id}", |call| async move { call.respond_text("user").await });
    /// root.get("/users/me", |call| async move { call.respond_text("me").await });
    /// let Resolution::Matched(matched) = root.resolve(&RoutingRequest::new(&Method::GET, "/users/me")).unwrap() else {
    ///     panic!("no match")
    /// };
    /// assert_eq!(matched.route().path(), "/users/me/(method:GET)");
    /// let Resolution::Failed(failed) = root.resolve(&RoutingRequest::new(&Method::PUT, "/users/1")).unwrap() else {
    ///     panic!("matched")
    /// };
    /// assert_eq!(failed.status(), 405);
    /// assert_eq!(failed.allow(), [Method::GET]);
    /// ```
    ///
    /// # Errors
    /// A 400 error when the path has a malformed percent escape.
    pub fn resolve<'r, 'a>(&'r self, request: &RoutingRequest<'a>) -> Result<Resolution<'r, 'a>> {
        self.resolve_with(request, None)
    }

    /// Like [`resolve`](Self::resolve), also explaining the decision node by node.
    ///
    /// # Errors
    /// As [`resolve`](Self::resolve).
    pub fn resolve_traced<'r, 'a>(&'r self, request: &RoutingRequest<'a>) -> Result<(Resolution<'r, 'a>, RouteTrace)> {
        let mut recorder = TraceRecorder::default();
        let resolution = self.resolve_with(request, Some(&mut recorder))?;
        let trace = recorder.finish(request, &resolution);
        Ok((resolution, trace))
    }

    fn resolve_with<'r, 'a>(
        &'r self,
        request: &RoutingRequest<'a>,
        trace: Option<&mut TraceRecorder<'r>>,
    ) -> Result<Resolution<'r, 'a>> {
        if trace.is_none() && !request.ignores_trailing_slash() && !request.treats_head_as_get() {
            if let Some(compiled) = self.compiled() {
                let mut captured = Captured::new();
                if let Some(found) = compiled.resolve(&mut captured, request.method(), request.path()) {
                    return Ok(Resolution::Matched(Matched::from_index(self, found, captured)));
                }
            }
        }
        let path = RequestPath::parse(request.path(), request.ignores_trailing_slash())?;
        let input = ResolveInput { request, path };
        let mut resolver = Resolver {
            input: &input,
            len: input.segments().len(),
            best: Trail::new(),
            candidate: Trail::new(),
            failed: Some(Failure { quality: quality::FAILED_PATH, status: StatusCode::NOT_FOUND }),
            failed_depth: 0,
            allow: Vec::new(),
            trace,
        };
        if let Some(trace) = resolver.trace.as_deref_mut() {
            trace.start(input.segments());
        }
        resolver.handle(self, 0, None, MIN_QUALITY);
        Ok(resolver.finish())
    }
}

#[derive(Clone, Copy, Debug)]
struct Failure {
    quality: f64,
    status: StatusCode,
}

/// The failure a method selector reports when the request has another method.
const METHOD_FAILURE: Failure = Failure { quality: quality::FAILED_METHOD, status: StatusCode::METHOD_NOT_ALLOWED };

#[derive(Clone, Copy)]
pub(crate) struct Step<'r> {
    pub(crate) route: &'r Route,
    pub(crate) quality: f64,
    pub(crate) index: usize,
}

/// A route on the path being tried, linked to its parent's on the stack of [`Resolver::handle`] calls: the
/// walk records its path without copying a step into a list at every node, and only a route with handlers
/// that matches the whole path collects its path into a list.
struct Link<'r, 'l> {
    step: Step<'r>,
    parent: Option<&'l Link<'r, 'l>>,
    /// How many routes are above this one (the root is 0).
    depth: usize,
}

impl<'r> Link<'r, '_> {
    /// Replaces the contents of `path` with the steps from the root to this one.
    fn collect(&self, path: &mut Trail<'r>) {
        path.clear();
        let mut link = Some(self);
        while let Some(current) = link {
            path.push(current.step);
            link = current.parent;
        }
        path.as_mut_slice().reverse();
    }

    /// The steps from the root to this one, collected into `scratch`.
    fn collected<'s>(&self, scratch: &'s mut Trail<'r>) -> &'s [Step<'r>] {
        self.collect(scratch);
        scratch.as_slice()
    }
}

struct Resolver<'r, 'i, 't, 'a> {
    input: &'i ResolveInput<'i, 'a>,
    len: usize,
    best: Trail<'r>,
    /// Scratch space for the path of a candidate route, compared with `best`.
    candidate: Trail<'r>,
    /// The failure to answer with; `None` once a route matched.
    failed: Option<Failure>,
    failed_depth: usize,
    allow: Vec<Method>,
    trace: Option<&'t mut TraceRecorder<'r>>,
}

impl<'r, 'a> Resolver<'r, '_, '_, 'a> {
    /// Tries `route` at segment `index`, below the routes of `parent`; returns its quality if a route with
    /// handlers at or below it became the best match, else `MIN_QUALITY`.
    fn handle(&mut self, route: &'r Route, index: usize, parent: Option<&Link<'r, '_>>, matched_quality: f64) -> f64 {
        match route.selector().evaluate(self.input, index) {
            Evaluation::Failure { quality, status } => {
                let depth = parent.map_or(0, |parent| parent.depth + 1);
                self.fail(route, index, depth, Failure { quality, status });
                MIN_QUALITY
            }
            Evaluation::Success { quality, increment } => {
                self.enter(route, index, parent, matched_quality, quality, increment)
            }
        }
    }

    /// Goes on with `route`, whose selector matched at `index` with `quality`, consuming `increment` segments.
    fn enter(
        &mut self,
        route: &'r Route,
        index: usize,
        parent: Option<&Link<'r, '_>>,
        matched_quality: f64,
        quality: f64,
        increment: usize,
    ) -> f64 {
        let depth = parent.map_or(0, |parent| parent.depth + 1);
        if quality != quality::TRANSPARENT && quality < matched_quality {
            if let Some(trace) = self.trace.as_deref_mut() {
                trace.skipped(route, index, depth, quality, "a better match was already found");
            }
            return MIN_QUALITY;
        }
        let next = index + increment;
        if route.children().is_empty() && next != self.len {
            if let Some(trace) = self.trace.as_deref_mut() {
                trace.skipped(route, index, depth, quality, "not all segments matched");
            }
            return MIN_QUALITY;
        }
        if let Some(trace) = self.trace.as_deref_mut() {
            trace.matched(route, index, next, depth, quality);
        }
        let link = Link { step: Step { route, quality, index }, parent, depth };
        let mut best_child = MIN_QUALITY;
        if !route.handlers().is_empty() && next == self.len {
            link.collect(&mut self.candidate);
            if self.best.is_empty() || is_better(self.best.as_slice(), self.candidate.as_slice()) {
                best_child = quality;
                std::mem::swap(&mut self.best, &mut self.candidate);
                self.failed = None;
            }
            if let Some(trace) = self.trace.as_deref_mut() {
                trace.candidate(link.collected(&mut self.candidate));
            }
        }
        let constant = self.input.segments().get(next).and_then(|segment| route.constant_child(segment));
        for slot in route.slots() {
            let (child, indexed) = match *slot {
                Slot::Child(child) => (child, false),
                Slot::Constants { first, last } => match constant.filter(|child| (first..=last).contains(child)) {
                    Some(child) => (child, true),
                    None => {
                        // Every constant child here fails on the path; only the end of the path records it.
                        if next == self.len {
                            self.update_failed(
                                Failure { quality: quality::FAILED_PATH, status: StatusCode::NOT_FOUND },
                                depth + 1,
                            );
                        }
                        if let Some(trace) = self.trace.as_deref_mut() {
                            trace.constants_skipped(route, next, depth + 1, last + 1 - first);
                        }
                        continue;
                    }
                },
            };
            let child = &route.children()[child];
            if child.selector().as_method().is_some_and(|method| !self.input.request().may_match_method(method)) {
                // A sibling method that is not the request's fails here, without a call to `handle`.
                self.fail(child, next, depth + 1, METHOD_FAILURE);
                continue;
            }
            let child_quality = if indexed {
                // The index found the child by the segment: its constant selector matches, no need to compare.
                self.enter(child, next, Some(&link), best_child, quality::CONSTANT, 1)
            } else {
                self.handle(child, next, Some(&link), best_child)
            };
            if child_quality > 0.0 {
                best_child = best_child.max(child_quality);
            }
        }
        if best_child > 0.0 { quality } else { MIN_QUALITY }
    }

    /// Records that `route`'s selector failed at `index` (`depth` routes below the root).
    fn fail(&mut self, route: &'r Route, index: usize, depth: usize, failure: Failure) {
        if let Some(trace) = self.trace.as_deref_mut() {
            trace.failed(route, index, depth, failure.quality, failure.status);
        }
        if index == self.len {
            self.update_failed(failure, depth);
            if failure.status == StatusCode::METHOD_NOT_ALLOWED {
                self.note_allowed(route);
            }
        }
    }

    /// Ktor's rule for the failure to answer with: a failure of higher quality (method over parameter over
    /// path), or one deeper in the tree, wins. Unlike Ktor, the path before it need not be made of constants:
    /// `POST /users/7` against `get("/users/{id}")` answers 405, as users expect.
    fn update_failed(&mut self, new: Failure, depth: usize) {
        let Some(current) = self.failed else { return };
        if current.quality < new.quality || self.failed_depth < depth {
            self.failed = Some(new);
            self.failed_depth = depth;
        }
    }

    fn note_allowed(&mut self, route: &Route) {
        let Some(method) = route.selector().as_method() else { return };
        let reachable = route.handler_count() > 0 || !route.children().is_empty();
        if reachable && !self.allow.contains(method) {
            self.allow.push(method.clone());
        }
    }

    fn finish(self) -> Resolution<'r, 'a> {
        if self.best.is_empty() {
            let status = self.failed.map_or(StatusCode::NOT_FOUND, |failed| failed.status);
            let allow = if status == StatusCode::METHOD_NOT_ALLOWED { self.allow } else { Vec::new() };
            return Resolution::Failed(Failed { status, allow });
        }
        let mut parameters = Parameters::new();
        let mut worst = f64::MAX;
        let mut chain: Vec<&Route> = Vec::with_capacity(self.best.len());
        for step in self.best.as_slice() {
            chain.push(step.route);
            step.route.selector().capture(self.input, step.index, &mut parameters);
            let quality = if step.quality == quality::TRANSPARENT { quality::CONSTANT } else { step.quality };
            worst = worst.min(quality);
        }
        let lazy = Lazy { parameters: OnceCell::from(parameters), chain: OnceCell::new() };
        let matched = Matched {
            way: Way::Routes(chain.into_boxed_slice()),
            captured: Captured::new(),
            lazy: OnceCell::from(Box::new(lazy)),
            quality: worst,
        };
        Resolution::Matched(matched)
    }
}

/// Ktor's `isBetterResolve`: compare qualities position by position (transparent ones skipped); the first
/// difference decides. If one path runs out first, the one whose remaining worst quality is higher wins (an
/// empty remainder counts as a constant's 1.0, so a longer path wins only through selectors at least as good
/// as a constant: `header(..) { get("/") }` beats `get("/")`, while a missing optional parameter does not
/// outrank a path without it); then the longer path wins.
fn is_better(current: &[Step<'_>], new: &[Step<'_>]) -> bool {
    let (mut i, mut j) = (0, 0);
    while i < current.len() && j < new.len() {
        let (q1, q2) = (current[i].quality, new[j].quality);
        if q1 == quality::TRANSPARENT {
            i += 1;
            continue;
        }
        if q2 == quality::TRANSPARENT {
            j += 1;
            continue;
        }
        if q1 != q2 {
            return q2 > q1;
        }
        i += 1;
        j += 1;
    }
    let tail_min = |steps: &[Step<'_>]| {
        steps.iter().map(|step| step.quality).filter(|q| *q != quality::TRANSPARENT).fold(quality::CONSTANT, f64::min)
    };
    let (first_tail, second_tail) = (tail_min(&current[i..]), tail_min(&new[j..]));
    if first_tail != second_tail {
        return second_tail > first_tail;
    }
    let count = |steps: &[Step<'_>]| steps.iter().filter(|step| step.quality != quality::TRANSPARENT).count();
    count(new) > count(current)
}
