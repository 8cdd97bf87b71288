//! Installing routing on an application, and the interceptor that resolves and runs each call.

use std::sync::Arc;

use http::{HeaderValue, StatusCode};

use super::ignore_trailing_slash::ignores_trailing_slash;
use super::resolve::Resolution;
use super::route::RoutePipelines;
use super::trace::ROUTE_TRACE;
use super::{Route, RoutingRequest, route_trace};
use crate::application::{ApplicationCallPipeline, CallContext};
use crate::call::{ApplicationCall, AttributeKey, OutgoingContent, Parameters};
use crate::pipeline::{Interceptor, Step};
use crate::{Application, Result};

/// The tracing target routing logs under.
const TARGET: &str = "rotor::routing";

/// The application attribute the route tree lives under.
const ROUTING: AttributeKey<Route> = AttributeKey::new("rotor.routing.Routing");

impl Application {
    /// Configures the application's route tree (Ktor's `routing { }`): the first call installs routing's
    /// interceptors in the Call phase; every call configures the same tree, so modules can each add routes.
    /// Returns the root route.
    ///
    /// See the [routing module](crate::routing) for patterns, selectors and resolution.
    ///
    /// ```
    /// use rotor::prelude::*;
    ///
    /// let mut app = Application::default();
    /// app.routing(|r| {
    ///     r.get("/a", |call: ApplicationCall| async move { call.respond_text("a").await });
    /// });
    /// let installed = app.pipeline().interceptor_count(&ApplicationCallPipeline::CALL);
    /// app.routing(|r| {
    ///     r.get("/b", |call: ApplicationCall| async move { call.respond_text("b").await });
    /// });
    /// assert_eq!(rotor::routing::routing_root(&app).unwrap().children().len(), 2);
    /// assert_eq!(app.pipeline().interceptor_count(&ApplicationCallPipeline::CALL), installed, "installed once");
    /// ```
    pub fn routing(&mut self, configure: impl FnOnce(&mut Route)) -> &mut Route {
        if !self.attributes().contains(&ROUTING) {
            let root = Route::root(self.environment().clone());
            self.attributes_mut().put(&ROUTING, root);
            let pipeline = self.pipeline_mut();
            let added = pipeline.add_interceptor(&ApplicationCallPipeline::CALL, RouteCall);
            let answered = pipeline.add_interceptor(&ApplicationCallPipeline::CALL, AnswerSetStatus);
            debug_assert!(added.is_ok() && answered.is_ok(), "the call pipeline has the Call phase");
            if self.environment().development() {
                self.intercept(&ApplicationCallPipeline::FALLBACK, |ctx| async move {
                    ctx.proceed().await?;
                    answer_not_found_page(ctx.call()).await
                });
            }
        }
        let root = self.attributes_mut().get_mut(&ROUTING);
        let root = root.unwrap_or_else(|| unreachable!("the route tree was stored above"));
        configure(root);
        root
    }
}

/// The application's route tree, if [`Application::routing`] was called.
pub fn routing_root(application: &Application) -> Option<&Route> {
    application.attributes().get(&ROUTING)
}

/// The Call-phase interceptor: resolve, then run the route's handlers (or its merged pipeline), or record why
/// nothing matched.
///
/// Resolution runs as the interceptor is called, without a future; a route with one handler and nothing else in
/// its merged pipeline hands the pipeline that handler's own future, so a routed call costs no boxed step of
/// routing's. A handler that sets a status without responding is answered with it by [`AnswerSetStatus`], the
/// next interceptor.
struct RouteCall;

impl Interceptor<(), ApplicationCall> for RouteCall {
    fn intercept(&self, ctx: CallContext) -> Step {
        self.intercept_ref(&ctx)
    }

    fn intercept_ref(&self, ctx: &CallContext) -> Step {
        route_call(ctx.call())
    }

    fn works_in_place(&self) -> bool {
        true
    }

    fn intercept_in_place(&self, _: &mut (), call: &ApplicationCall) -> Step {
        route_call(call)
    }
}

/// Resolves `call`'s route and returns the step that runs its handlers (ready if no route matched).
fn route_call(call: &ApplicationCall) -> Step {
    if call.is_handled() {
        return Step::ready(Ok(()));
    }
    let (pipelines, parameters) = match resolve_call(call) {
        Ok(Some(resolved)) => resolved,
        Ok(None) => return Step::ready(Ok(())),
        Err(error) => return Step::ready(Err(error)),
    };
    call.set_route_matched();
    if !parameters.is_empty() {
        call.set_path_parameters(parameters);
    }
    if let (Some(send), Some(receive)) = (&pipelines.send, &pipelines.receive) {
        call.set_pipelines(Arc::clone(send), Arc::clone(receive));
    }
    match pipelines.handlers_only.as_deref() {
        Some([handler]) => Step::Pending(handler(call.clone())),
        Some(_) => Step::boxed(run_handlers(call.clone(), Arc::clone(pipelines))),
        None => Step::boxed(run_pipeline(call.clone(), Arc::clone(pipelines))),
    }
}

/// Right after [`RouteCall`] in the Call phase: a call whose route matched, and whose handlers set a status
/// without responding, is answered with that status (inside the Call phase, before later interceptors and the
/// Fallback phase, as when routing awaited the handlers itself). A call that is answered, or that no route
/// matched, costs one atomic load or two.
struct AnswerSetStatus;

impl Interceptor<(), ApplicationCall> for AnswerSetStatus {
    fn intercept(&self, ctx: CallContext) -> Step {
        self.intercept_ref(&ctx)
    }

    fn intercept_ref(&self, ctx: &CallContext) -> Step {
        answer_set_status(ctx.call())
    }

    fn works_in_place(&self) -> bool {
        true
    }

    fn intercept_in_place(&self, _: &mut (), call: &ApplicationCall) -> Step {
        answer_set_status(call)
    }
}

/// The step that answers `call` with the status its handler set, if a route matched and nothing responded.
fn answer_set_status(call: &ApplicationCall) -> Step {
    if call.is_handled() || !call.route_matched() {
        return Step::ready(Ok(()));
    }
    match call.response().status() {
        Some(status) => Step::boxed(call.respond(status)),
        None => Step::ready(Ok(())),
    }
}

/// Runs a route's handlers one after the other (a route with several, and nothing else in its pipeline).
async fn run_handlers(call: ApplicationCall, pipelines: Arc<RoutePipelines>) -> Result<()> {
    for handler in pipelines.handlers_only.as_deref().unwrap_or_default() {
        handler(call.clone()).await?;
    }
    Ok(())
}

/// Runs a route's merged call pipeline (its interceptors and plugins, then its handlers).
async fn run_pipeline(call: ApplicationCall, pipelines: Arc<RoutePipelines>) -> Result<()> {
    pipelines.call.execute(call, ()).await.map(drop)
}

/// The resolved route's merged pipelines (borrowed from the route tree) and path parameters, or `None` with the
/// reason recorded on the call.
fn resolve_call(call: &ApplicationCall) -> Result<Option<(&Arc<RoutePipelines>, Parameters)>> {
    let application = call.application();
    let Some(root) = routing_root(application) else { return Ok(None) };
    let request = RoutingRequest::from_call(call, ignores_trailing_slash(call));
    let development = application.environment().development();
    let traced = tracing::enabled!(target: TARGET, tracing::Level::TRACE);
    // Matched where it lies (by reference), not moved out of the `Result`: each move of a resolution copies it.
    let mut resolved = if development || traced {
        root.resolve_traced(&request).map(|(resolution, trace)| {
            if traced {
                tracing::trace!(target: TARGET, "{trace}");
            }
            if development {
                call.attributes().put(&ROUTE_TRACE, Arc::new(trace));
            }
            resolution
        })
    } else {
        root.resolve(&request)
    };
    let resolution = match &mut resolved {
        Ok(resolution) => resolution,
        Err(_) => return resolved.map(|_| None),
    };
    match resolution {
        Resolution::Matched(matched) => {
            let pipelines = matched.pipelines(application)?;
            Ok(Some((pipelines, matched.take_parameters())))
        }
        Resolution::Failed(failed) => {
            let allow = (!failed.allow().is_empty()).then(|| {
                let methods: Vec<&str> = failed.allow().iter().map(http::Method::as_str).collect();
                HeaderValue::try_from(methods.join(", "))
            });
            call.set_unhandled_status(failed.status(), allow.and_then(std::result::Result::ok));
            Ok(None)
        }
    }
}

/// In development mode, after every other Fallback interceptor: a call routing found no route for gets a
/// 404 page listing the closest routes and the trace.
async fn answer_not_found_page(call: &ApplicationCall) -> Result<()> {
    if call.is_handled() {
        return Ok(());
    }
    let Some(trace) = route_trace(call) else { return Ok(()) };
    let not_found = call.unhandled_status().is_some_and(|unhandled| unhandled.status == StatusCode::NOT_FOUND);
    if trace.is_matched() || !not_found {
        return Ok(());
    }
    let request = call.request();
    let mut page = format!("404 Not Found: no route matches {} {}\n", request.method(), request.path());
    if !trace.closest_routes().is_empty() {
        page.push_str("\nClosest routes:\n");
        for route in trace.closest_routes() {
            page.push_str("  ");
            page.push_str(route);
            page.push('\n');
        }
    }
    page.push_str("\nRouting trace:\n");
    page.push_str(&trace.to_string());
    page.push('\n');
    call.respond(OutgoingContent::text(page).with_status(StatusCode::NOT_FOUND)).await
}
