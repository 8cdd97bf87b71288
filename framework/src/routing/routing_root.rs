//! Installing routing on an application, and the interceptor that resolves and runs each call.

use std::sync::Arc;

use http::{HeaderValue, StatusCode};

use super::ignore_trailing_slash::ignores_trailing_slash;
use super::resolve::Resolution;
use super::route::RoutePipelines;
use super::trace::ROUTE_TRACE;
use super::{Route, RoutingRequest, route_trace};
use crate::application::ApplicationCallPipeline;
use crate::call::{ApplicationCall, AttributeKey, OutgoingContent, Parameters};
use crate::{Application, Result};

/// The tracing target routing logs under.
const TARGET: &str = "rotor::routing";

/// The application attribute the route tree lives under.
const ROUTING: AttributeKey<Route> = AttributeKey::new("rotor.routing.Routing");

impl Application {
    /// Configures the application's route tree (Ktor's `routing { }`): the first call installs routing as an
    /// interceptor in the Call phase; every call configures the same tree, so modules can each add routes.
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
    /// app.routing(|r| {
    ///     r.get("/b", |call: ApplicationCall| async move { call.respond_text("b").await });
    /// });
    /// assert_eq!(rotor::routing::routing_root(&app).unwrap().children().len(), 2);
    /// assert_eq!(app.pipeline().interceptor_count(&ApplicationCallPipeline::CALL), 1);
    /// ```
    pub fn routing(&mut self, configure: impl FnOnce(&mut Route)) -> &mut Route {
        if !self.attributes().contains(&ROUTING) {
            let root = Route::root(self.environment().clone());
            self.attributes_mut().put(&ROUTING, root);
            self.intercept(&ApplicationCallPipeline::CALL, |ctx| route_call(ctx.call().clone()));
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

/// The Call-phase interceptor: resolve, then run the route's merged pipeline, or record why nothing matched.
async fn route_call(call: ApplicationCall) -> Result<()> {
    if call.is_handled() {
        return Ok(());
    }
    let Some((pipelines, parameters)) = resolve_call(&call)? else { return Ok(()) };
    call.set_path_parameters(parameters);
    if let (Some(send), Some(receive)) = (&pipelines.send, &pipelines.receive) {
        call.set_pipelines(Arc::clone(send), Arc::clone(receive));
    }
    match &pipelines.handlers_only {
        Some(handlers) => {
            for handler in handlers {
                handler(call.clone()).await?;
            }
        }
        None => pipelines.call.execute(call.clone(), ()).await?,
    }
    if !call.is_handled() {
        if let Some(status) = call.response().status() {
            call.respond(status).await?;
        }
    }
    Ok(())
}

fn resolve_call(call: &ApplicationCall) -> Result<Option<(Arc<RoutePipelines>, Parameters)>> {
    let application = call.application();
    let Some(root) = routing_root(application) else { return Ok(None) };
    let request = RoutingRequest::from_call(call, ignores_trailing_slash(call));
    let development = application.environment().development();
    let traced = tracing::enabled!(target: TARGET, tracing::Level::TRACE);
    let resolution = if development || traced {
        let (resolution, trace) = root.resolve_traced(&request)?;
        if traced {
            tracing::trace!(target: TARGET, "{trace}");
        }
        if development {
            call.attributes().put(&ROUTE_TRACE, Arc::new(trace));
        }
        resolution
    } else {
        root.resolve(&request)?
    };
    match resolution {
        Resolution::Matched(matched) => {
            let pipelines = matched.pipelines(application)?;
            Ok(Some((pipelines, matched.into_parameters())))
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
