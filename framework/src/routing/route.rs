//! `Route`: a node of the route tree, a pipeline of its own with a selector, children and handlers.

use std::collections::HashMap;
use std::fmt;
use std::future::Future;
use std::ops::{Deref, DerefMut};
use std::sync::{Arc, OnceLock};

use http::Method;

use super::compiled::CompiledTree;
use super::media::MediaType;
use super::path_pattern;
use super::selector::{Kind, RouteSelector};
use crate::application::{ApplicationCallPipeline, Plugin};
use crate::call::ApplicationCall;
use crate::environment::ApplicationEnvironment;
use crate::pipeline::BoxFuture;
use crate::{Error, Result};

/// A route handler, type-erased.
pub(crate) type Handler = Arc<dyn Fn(ApplicationCall) -> BoxFuture<Result<()>> + Send + Sync>;

/// A node of the route tree (Ktor's `Route`): a [`RouteSelector`], children, handlers, and a pipeline of its
/// own ([`ApplicationCallPipeline`], which it dereferences to), so that interceptors and plugins added to a
/// route apply to its subtree only.
///
/// For a resolved route, the pipelines of the root…leaf path are merged once (then cached in the leaf): phase
/// order beats nesting (a child's Plugins interceptor runs before its parent's Call interceptor), and within a
/// phase a parent's interceptors run before its child's. The handlers run last, in the Call phase.
///
/// ```
/// use rotor::prelude::*;
///
/// fn module(app: &mut Application) {
///     app.routing(|r| {
///         r.get("/", |call: ApplicationCall| async move { call.respond_text("home").await });
///         r.route("/users", |r| {
///             r.intercept(&ApplicationCallPipeline::PLUGINS, |ctx| async move {
///                 ctx.call().response().set_header("x-area", "users")
///             });
///             r.get("/{id}", |call: ApplicationCall| async move {
///                 let id: u64 = call.parameters().require("id")?;
///                 call.respond_text(format!("user {id}")).await
///             });
///         });
///     });
/// }
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(module).await;
/// let response = app.client().get("/users/7").send().await;
/// assert_eq!(response.header("x-area"), Some("users"));
/// assert_eq!(response.text().await, "user 7");
/// assert_eq!(app.client().get("/users/x").send().await.status(), 400);
/// assert_eq!(app.client().post("/users/7").send().await.header("allow"), Some("GET"));
/// # }
/// ```
pub struct Route {
    selector: RouteSelector,
    path: String,
    pipeline: ApplicationCallPipeline,
    environment: ApplicationEnvironment,
    children: Vec<Route>,
    /// The children in declaration order, with runs of constant path children grouped.
    slots: Vec<Slot>,
    /// Constant path children by decoded segment.
    /// Constant children by decoded segment. FxHash (rustc-hash) rather than SipHash: a non-keyed hash is
    /// safe here because the stored keys are the constant segments the application declares, never client
    /// data; a client only chooses what is looked up, which costs at most the probe sequence of one declared
    /// key, fixed when the routes are declared.
    constants: HashMap<String, usize, rustc_hash::FxBuildHasher>,
    handlers: Vec<Handler>,
    /// Shared with the compiled index, which hands it to a match without touching the route.
    cache: Arc<PipelinesCell>,
    /// The compiled index of the tree below, built by the first resolution that starts here and dropped by
    /// every change below (any change goes through `create_child` or `handle` of each route on the way down).
    compiled: OnceLock<Option<CompiledTree>>,
}

/// A position among a route's children: one non-constant child, or a run of constant path children declared
/// one after another (found by segment through the index, not by trying each).
#[derive(Clone, Copy, Debug)]
pub(crate) enum Slot {
    Child(usize),
    Constants { first: usize, last: usize },
}

/// Where a route keeps its merged pipelines once built.
pub(crate) type PipelinesCell = OnceLock<Arc<RoutePipelines>>;

/// The merged pipelines of a resolved route, built once per leaf.
pub struct RoutePipelines {
    pub(crate) call: crate::pipeline::Pipeline<(), ApplicationCall>,
    pub(crate) send: Option<Arc<crate::call::ApplicationSendPipeline>>,
    pub(crate) receive: Option<Arc<crate::call::ApplicationReceivePipeline>>,
    /// The leaf's handlers, when the merged pipeline holds nothing else (no route on the way has an interceptor
    /// or a plugin): routing then runs them one after the other without executing the pipeline, which would
    /// do the same with one more execution state and one more boxed step per handler.
    pub(crate) handlers_only: Option<Box<[Handler]>>,
}

impl fmt::Debug for RoutePipelines {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RoutePipelines")
            .field("call", &self.call)
            .field("route_send", &self.send.is_some())
            .field("route_receive", &self.receive.is_some())
            .finish()
    }
}

impl RoutePipelines {
    /// The merged call pipeline (root…leaf, then the handlers in the Call phase).
    pub fn call_pipeline(&self) -> &crate::pipeline::Pipeline<(), ApplicationCall> {
        &self.call
    }

    /// True when a route on the path has send or receive interceptors, so the call gets merged send and
    /// receive pipelines rather than the application's.
    pub fn has_route_pipelines(&self) -> bool {
        self.send.is_some()
    }
}

impl fmt::Debug for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Route")
            .field("path", &self.path)
            .field("handlers", &self.handlers.len())
            .field("children", &self.children)
            .finish_non_exhaustive()
    }
}

impl fmt::Display for Route {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.path.is_empty() { "/" } else { &self.path })
    }
}

impl Deref for Route {
    type Target = ApplicationCallPipeline;
    fn deref(&self) -> &ApplicationCallPipeline {
        &self.pipeline
    }
}

impl DerefMut for Route {
    fn deref_mut(&mut self) -> &mut ApplicationCallPipeline {
        &mut self.pipeline
    }
}

impl Route {
    /// The root of a route tree for `environment`, mounted under its root path
    /// ([`ApplicationEnvironment::root_path`]). Applications get theirs from
    /// [`Application::routing`](crate::Application::routing); this is for resolving paths without an
    /// application (benchmarks, tools).
    ///
    /// # Panics
    /// If the root path is not made of constant segments.
    pub fn root(environment: ApplicationEnvironment) -> Route {
        let root_path = environment.root_path().to_owned();
        let segments: Vec<String> = path_pattern::parse(&root_path)
            .into_iter()
            .filter_map(|selector| match selector.kind {
                Kind::Constant(value) => Some(value),
                Kind::TrailingSlash => None,
                _ => panic!("the root path {root_path:?} must be made of constant segments"),
            })
            .collect();
        let path = if segments.is_empty() { String::new() } else { format!("/{}", segments.join("/")) };
        Route::new(RouteSelector::new(Kind::Root { segments }), path, environment)
    }

    fn new(selector: RouteSelector, path: String, environment: ApplicationEnvironment) -> Route {
        Route {
            selector,
            path,
            pipeline: ApplicationCallPipeline::new(),
            environment,
            children: Vec::new(),
            slots: Vec::new(),
            constants: HashMap::default(),
            handlers: Vec::new(),
            cache: Arc::default(),
            compiled: OnceLock::new(),
        }
    }

    /// This route's selector.
    pub fn selector(&self) -> &RouteSelector {
        &self.selector
    }

    /// The route's path from the root, selectors included (`/users/{id}/(method:GET)`).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// The children, in declaration order.
    pub fn children(&self) -> &[Route] {
        &self.children
    }

    /// The number of handlers on this route.
    pub fn handler_count(&self) -> usize {
        self.handlers.len()
    }

    /// The environment the tree was made for.
    pub fn environment(&self) -> &ApplicationEnvironment {
        &self.environment
    }

    pub(crate) fn slots(&self) -> &[Slot] {
        &self.slots
    }

    pub(crate) fn constant_child(&self, segment: &str) -> Option<usize> {
        self.constants.get(segment).copied()
    }

    /// The compiled index of the tree below this route, if it starts at a root.
    pub(crate) fn compiled(&self) -> Option<&CompiledTree> {
        self.compiled.get_or_init(|| CompiledTree::compile(self)).as_ref()
    }

    pub(crate) fn handlers(&self) -> &[Handler] {
        &self.handlers
    }

    /// The child with `selector`, made if there is none yet (children with equal selectors are one child).
    pub fn create_child(&mut self, selector: RouteSelector) -> &mut Route {
        self.compiled = OnceLock::new();
        let existing = match selector.as_constant() {
            Some(value) => self.constants.get(value).copied(),
            None => self.children.iter().position(|child| child.selector == selector),
        };
        let index = match existing {
            Some(index) => index,
            None => self.push_child(selector),
        };
        &mut self.children[index]
    }

    fn push_child(&mut self, selector: RouteSelector) -> usize {
        let index = self.children.len();
        match selector.as_constant() {
            Some(value) => {
                self.constants.insert(value.to_owned(), index);
                match self.slots.last_mut() {
                    Some(Slot::Constants { last, .. }) => *last = index,
                    _ => self.slots.push(Slot::Constants { first: index, last: index }),
                }
            }
            None => self.slots.push(Slot::Child(index)),
        }
        let path = if self.path.ends_with('/') {
            format!("{}{selector}", self.path)
        } else {
            format!("{}/{selector}", self.path)
        };
        self.children.push(Route::new(selector, path, self.environment.clone()));
        index
    }

    /// The route for `path` below this one (made if missing), then configured by `build`.
    ///
    /// # Panics
    /// If `path` is not a valid pattern (see the [module documentation](super)).
    pub fn route(&mut self, path: &str, build: impl FnOnce(&mut Route)) -> &mut Route {
        let route = self.route_for_path(path);
        build(route);
        route
    }

    fn route_for_path(&mut self, path: &str) -> &mut Route {
        let mut current = self;
        for selector in path_pattern::parse(path) {
            current = current.create_child(selector);
        }
        current
    }

    /// The route below this one that matches `method`, configured by `build`.
    pub fn method(&mut self, method: Method, build: impl FnOnce(&mut Route)) -> &mut Route {
        let route = self.create_child(RouteSelector::method(method));
        build(route);
        route
    }

    /// Adds `handler`, run when a call resolves to this route (after every Call interceptor on the path).
    pub fn handle<F, Fut>(&mut self, handler: F) -> &mut Route
    where
        F: Fn(ApplicationCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.compiled = OnceLock::new();
        self.handlers.push(Arc::new(move |call| Box::pin(handler(call))));
        self
    }

    /// Handles `method` requests to `path` with `handler`; returns the method route.
    ///
    /// # Panics
    /// If `path` is not a valid pattern.
    pub fn on<F, Fut>(&mut self, method: Method, path: &str, handler: F) -> &mut Route
    where
        F: Fn(ApplicationCall) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.route_for_path(path).create_child(RouteSelector::method(method)).handle(handler)
    }

    /// Matches requests whose query has `name` with the value `value`.
    pub fn param_value(&mut self, name: &str, value: &str, build: impl FnOnce(&mut Route)) -> &mut Route {
        self.child_with(Kind::QueryValue { name: name.to_owned(), value: value.to_owned() }, build)
    }

    /// Matches requests whose query has `name` (answers 400 when it is the only thing missing).
    pub fn param(&mut self, name: &str, build: impl FnOnce(&mut Route)) -> &mut Route {
        self.child_with(Kind::Query { name: name.to_owned(), optional: false }, build)
    }

    /// Matches requests with or without `name` in the query (a lower quality when it is missing).
    pub fn optional_param(&mut self, name: &str, build: impl FnOnce(&mut Route)) -> &mut Route {
        self.child_with(Kind::Query { name: name.to_owned(), optional: true }, build)
    }

    /// Matches requests with header `name` having `value` among its comma-separated items (ignoring case);
    /// answers 400 when it is the only thing missing.
    ///
    /// # Panics
    /// If `name` is not a valid header name.
    pub fn header(&mut self, name: &str, value: &str, build: impl FnOnce(&mut Route)) -> &mut Route {
        let route = self.create_child(RouteSelector::header(name, value));
        build(route);
        route
    }

    /// Matches requests whose `Accept` header accepts one of `content_types` (or that send no `Accept`, with a
    /// lower quality); answers 406 when it is the only thing that fails.
    ///
    /// # Panics
    /// If a content type is not of the form `type/subtype`.
    pub fn accept(&mut self, content_types: &[&str], build: impl FnOnce(&mut Route)) -> &mut Route {
        self.child_with(Kind::Accept(parse_types(content_types)), build)
    }

    /// Matches requests whose `Content-Type` falls under one of `content_types` (`text/*` works); answers 415
    /// when it is the only thing that fails.
    ///
    /// # Panics
    /// If a content type is not of the form `type/subtype`.
    pub fn content_type(&mut self, content_types: &[&str], build: impl FnOnce(&mut Route)) -> &mut Route {
        self.child_with(Kind::ContentType(parse_types(content_types)), build)
    }

    /// Matches requests sent to one of `hosts` (ignoring case; any host when empty) on one of `ports` (any
    /// port when empty). The host and port are captured as the parameters `$RequestHost` and `$RequestPort`.
    ///
    /// # Panics
    /// If both lists are empty.
    pub fn host(&mut self, hosts: &[&str], ports: &[u16], build: impl FnOnce(&mut Route)) -> &mut Route {
        assert!(!hosts.is_empty() || !ports.is_empty(), "a host route needs at least one host or port");
        let hosts = hosts.iter().map(|host| host.to_ascii_lowercase()).collect();
        self.child_with(Kind::Host { hosts, ports: ports.to_vec() }, build)
    }

    /// Matches requests sent to one of `ports` (from the `Host` header, else the local address).
    ///
    /// # Panics
    /// If `ports` is empty.
    pub fn port(&mut self, ports: &[u16], build: impl FnOnce(&mut Route)) -> &mut Route {
        assert!(!ports.is_empty(), "a port route needs at least one port");
        self.child_with(Kind::Host { hosts: Vec::new(), ports: ports.to_vec() }, build)
    }

    fn child_with(&mut self, kind: Kind, build: impl FnOnce(&mut Route)) -> &mut Route {
        let route = self.create_child(RouteSelector::new(kind));
        build(route);
        route
    }

    /// Installs `plugin` on this route: its interceptors and send/receive handlers apply to calls resolved to
    /// this route's subtree only. Installing the same plugin again on the same route returns the first instance.
    ///
    /// # Errors
    /// If a different plugin holds the key on this route, or the plugin refuses its configuration.
    pub fn try_install<P: Plugin>(&mut self, plugin: P, config: P::Config) -> Result<Arc<P::Instance>> {
        self.pipeline.install_plugin(&self.environment, plugin, config)
    }

    /// Installs `plugin` on this route; see [`try_install`](Self::try_install).
    ///
    /// # Panics
    /// If installing fails, with the message.
    pub fn install<P: Plugin>(&mut self, plugin: P, config: P::Config) -> Arc<P::Instance> {
        self.try_install(plugin, config).unwrap_or_else(|error| panic!("route {self}: {error}"))
    }

    /// Installs `plugin` on this route with its default configuration changed by `configure`.
    ///
    /// # Panics
    /// As [`install`](Self::install).
    pub fn install_with<P>(&mut self, plugin: P, configure: impl FnOnce(&mut P::Config)) -> Arc<P::Instance>
    where
        P: Plugin,
        P::Config: Default,
    {
        let mut config = P::Config::default();
        configure(&mut config);
        self.install(plugin, config)
    }

    /// The instance of `plugin` if it is installed on this route itself.
    pub fn plugin<P: Plugin>(&self, plugin: &P) -> Option<Arc<P::Instance>> {
        self.pipeline.plugins.get(plugin)
    }

    /// The route reached from this one by the selectors of `path` (a pattern, not a request path), if it
    /// exists; for tests and tools.
    pub fn find(&self, path: &str) -> Option<&Route> {
        let mut current = self;
        for selector in path_pattern::parse(path) {
            current = current.children.iter().find(|child| child.selector == selector)?;
        }
        Some(current)
    }

    /// The merged pipelines of this route, if a call resolved to it already built them (they are built once).
    pub fn cached_pipelines(&self) -> Option<&Arc<RoutePipelines>> {
        self.cache.get()
    }

    /// The cell this route's merged pipelines are kept in.
    pub(crate) fn pipelines_cell(&self) -> &Arc<PipelinesCell> {
        &self.cache
    }

    /// The merged pipelines for the resolved path `chain` (root…this route), built on first use.
    pub(crate) fn pipelines(&self, chain: &[&Route], application: &crate::Application) -> Result<&Arc<RoutePipelines>> {
        if let Some(cached) = self.cache.get() {
            return Ok(cached);
        }
        let built = Arc::new(build_pipelines(chain, application)?);
        Ok(self.cache.get_or_init(|| built))
    }
}

fn build_pipelines(chain: &[&Route], application: &crate::Application) -> Result<RoutePipelines> {
    let leaf = chain.last().ok_or_else(|| Error::internal("an empty route chain"))?;
    let mut merged = ApplicationCallPipeline::new();
    for route in chain {
        merged.merge(&route.pipeline);
    }
    let handlers_only = merged.pipeline().is_empty().then(|| leaf.handlers.iter().cloned().collect());
    for handler in &leaf.handlers {
        let handler = Arc::clone(handler);
        merged.try_intercept(&ApplicationCallPipeline::CALL, move |ctx| handler(ctx.call().clone()))?;
    }
    let routed = chain.iter().any(|route| !route.send_pipeline().is_empty() || !route.receive_pipeline().is_empty());
    let (send, receive) = if routed {
        let mut send = application.send_pipeline().clone();
        let mut receive = application.receive_pipeline().clone();
        for route in chain {
            send.merge(route.send_pipeline());
            receive.merge(route.receive_pipeline());
        }
        (Some(Arc::new(send)), Some(Arc::new(receive)))
    } else {
        (None, None)
    };
    Ok(RoutePipelines { call: merged.pipeline().clone(), send, receive, handlers_only })
}

fn parse_types(content_types: &[&str]) -> Vec<MediaType> {
    assert!(!content_types.is_empty(), "give at least one content type");
    content_types
        .iter()
        .map(|text| {
            MediaType::parse(text).unwrap_or_else(|| panic!("invalid content type {text:?}: expected type/subtype"))
        })
        .collect()
}

macro_rules! method_routes {
    ($($(#[$doc:meta])* $name:ident => $method:ident;)*) => {
        impl Route {
            $(
                $(#[$doc])*
                ///
                /// # Panics
                /// If `path` is not a valid pattern.
                pub fn $name<F, Fut>(&mut self, path: &str, handler: F) -> &mut Route
                where
                    F: Fn(ApplicationCall) -> Fut + Send + Sync + 'static,
                    Fut: Future<Output = Result<()>> + Send + 'static,
                {
                    self.on(Method::$method, path, handler)
                }
            )*
        }
    };
}

method_routes! {
    /// Handles `GET` requests to `path`; returns the method route.
    get => GET;
    /// Handles `POST` requests to `path`; returns the method route.
    post => POST;
    /// Handles `PUT` requests to `path`; returns the method route.
    put => PUT;
    /// Handles `DELETE` requests to `path`; returns the method route.
    delete => DELETE;
    /// Handles `PATCH` requests to `path`; returns the method route.
    patch => PATCH;
    /// Handles `HEAD` requests to `path`; returns the method route.
    head => HEAD;
    /// Handles `OPTIONS` requests to `path`; returns the method route.
    options => OPTIONS;
}
