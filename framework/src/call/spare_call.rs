//! `SpareCall`: a finished call's storage, kept by an engine to make its connection's next call in.

use std::fmt;
use std::sync::{Arc, PoisonError};

use super::{ApplicationCall, ApplicationRequest, Body, CallInner, EngineResponse, RequestHeaders, response};
use crate::application::Application;
use crate::call::Attributes;

/// The storage of a finished call, emptied: what [`ApplicationCall::into_engine_parts_and_spare`] gives back when
/// the engine held the call's last handle, for [`into_call`](Self::into_call) to make the connection's next call
/// in. That call costs no allocation and no reference count of the application (the spare keeps its own); a
/// call made with [`ApplicationCall::new`] costs both, and the free of the one before it.
///
/// A spare holds nothing of its call that owns memory but the application (and the room of a response header map
/// that was emptied in place): the request's target, its body, the response, the attributes and the parameters
/// are dropped when it is made, as a drop of the call would drop them. It is about 750 bytes; an engine that
/// keeps one per connection may drop it when the connection goes idle.
///
/// ```
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// use rotor::call::{ApplicationRequest, Body};
/// use rotor::prelude::*;
///
/// let mut app = Application::default();
/// app.routing(|r| {
///     r.get("/{name}", |call: ApplicationCall| async move {
///         let name = call.parameters().get("name").unwrap_or_default().to_owned();
///         call.respond_text(name).await
///     });
/// });
/// let request = |target: &str| {
///     let (parts, ()) = rotor::http::Request::get(target).body(()).unwrap().into_parts();
///     ApplicationRequest::new(parts, None, None)
/// };
///
/// let call = ApplicationCall::new(std::sync::Arc::new(app), request("/first"), Body::empty());
/// let mut execution = call.execute();
/// (&mut execution).await.unwrap();
/// let (answer, _headers, spare) = execution.into_call().into_engine_parts_and_spare();
/// assert_eq!(answer.expect("answered").status(), 200);
///
/// // The next call, made in the first one's storage, starts afresh.
/// let call = spare.expect("the last handle").into_call(request("/second"), Body::empty());
/// assert!(!call.is_handled());
/// assert_eq!(call.request().path(), "/second");
/// let mut execution = call.execute();
/// (&mut execution).await.unwrap();
/// let call = execution.into_call();
/// assert_eq!(call.parameters().get("name"), Some("second"));
/// # });
/// ```
pub struct SpareCall {
    inner: Arc<CallInner>,
}

impl fmt::Debug for SpareCall {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SpareCall").finish_non_exhaustive()
    }
}

impl SpareCall {
    /// The application the spare's calls are made for.
    pub fn application(&self) -> &Arc<Application> {
        &self.inner.application
    }

    /// A call of the spare's application for `request`, its body streaming from `body`, made in the spare's
    /// storage: the same call [`ApplicationCall::new`] makes, without an allocation.
    pub fn into_call(mut self, request: ApplicationRequest, body: Body) -> ApplicationCall {
        match Arc::get_mut(&mut self.inner) {
            Some(inner) => {
                // The spare's request was released (`ApplicationRequest::release`): it owns no memory, and its
                // drop would only walk empty values.
                #[expect(clippy::mem_forget, reason = "a released request owns no memory: nothing leaks")]
                std::mem::forget(std::mem::replace(&mut inner.request, request));
                *inner.body.get_mut().unwrap_or_else(PoisonError::into_inner) = Some(body);
                ApplicationCall { inner: self.inner }
            }
            // Not reached: a spare is made from a call's last handle and hands out no other.
            None => ApplicationCall::new(Arc::clone(&self.inner.application), request, body),
        }
    }
}

impl ApplicationCall {
    /// Ends the call as [`into_engine_parts`](Self::into_engine_parts) does and, when this is the call's last
    /// handle, gives its storage back emptied, as a [`SpareCall`] to make the connection's next call in (rotor-cio
    /// keeps one per connection). When another handle still holds the call, the answer is taken under the lock and
    /// the fields and the spare are `None`.
    ///
    /// ```
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// use rotor::call::{ApplicationRequest, Body};
    /// use rotor::prelude::*;
    ///
    /// let app = std::sync::Arc::new(Application::default());
    /// let (parts, ()) = rotor::http::Request::get("/").body(()).unwrap().into_parts();
    /// let call = ApplicationCall::new(app, ApplicationRequest::new(parts, None, None), Body::empty());
    /// let kept = call.clone();
    /// let (answer, headers, spare) = call.into_engine_parts_and_spare();
    /// assert!(answer.is_none(), "not answered");
    /// assert!(headers.is_none() && spare.is_none(), "another handle holds the call");
    /// assert!(kept.into_engine_parts_and_spare().2.is_some(), "the last handle");
    /// # });
    /// ```
    pub fn into_engine_parts_and_spare(
        mut self,
    ) -> (Option<EngineResponse>, Option<RequestHeaders>, Option<SpareCall>) {
        let Some(inner) = Arc::get_mut(&mut self.inner) else {
            return (self.response().take_engine_response(), None, None);
        };
        let state = inner.state.get_mut().unwrap_or_else(PoisonError::into_inner);
        let answer = response::take_engine_response(state);
        let headers = inner.request.release();
        empty(inner);
        (answer, Some(headers), Some(SpareCall { inner: self.inner }))
    }
}

/// Drops what a finished call holds of its own, but its request (released by the caller) and its application, and
/// leaves it as [`ApplicationCall::new`] makes it. Every field is named, so that a new one cannot be left out.
fn empty(inner: &mut CallInner) {
    let CallInner {
        application: _,
        request: _,
        body,
        state,
        committed,
        routed_pipelines,
        route_matched,
        attributes,
        attributed,
    } = inner;
    // A panic under one of the locks poisoned it for this call only.
    body.clear_poison();
    state.clear_poison();
    attributes.clear_poison();
    *body.get_mut().unwrap_or_else(PoisonError::into_inner) = None;
    state.get_mut().unwrap_or_else(PoisonError::into_inner).reset();
    // Never handed out (most calls: `attributes()` was never called), the attributes are as a new call's: no drop
    // to run.
    if std::mem::take(attributed.get_mut()) {
        *attributes.get_mut().unwrap_or_else(PoisonError::into_inner) = Attributes::new();
    }
    for flag in [committed, routed_pipelines, route_matched] {
        *flag.get_mut() = false;
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;

    use http::{Method, Uri, Version};

    use super::*;
    use crate::call::AttributeKey;
    use crate::plugins::default_headers::DefaultHeaders;
    use crate::{Application, ApplicationCall};

    const MARK: AttributeKey<u32> = AttributeKey::new("Mark");

    fn request(target: &'static str) -> ApplicationRequest {
        let uri = Uri::from_static(target);
        ApplicationRequest::from_head(Method::POST, uri, Version::HTTP_11, http::HeaderMap::new(), None, None)
    }

    /// Runs `call` and gives its status, its `x-*` fields, its body and the spare.
    async fn run(call: ApplicationCall) -> (u16, Vec<String>, String, Option<SpareCall>) {
        let mut execution = call.execute();
        (&mut execution).await.expect("executed");
        let (answer, headers, spare) = execution.into_call().into_engine_parts_and_spare();
        assert!(headers.is_some(), "the last handle gives the fields back");
        let answer = answer.expect("answered").into_http_response();
        let status = answer.status().as_u16();
        let fields = answer.headers().keys().map(|name| name.as_str().to_owned()).filter(|name| name.starts_with("x-"));
        let fields = fields.collect();
        let body = answer.into_body().collect().await.expect("the body");
        (status, fields, String::from_utf8(body.to_vec()).expect("text"), spare)
    }

    #[tokio::test]
    async fn a_call_made_in_a_spare_starts_as_a_new_call() {
        let mut app = Application::default();
        app.routing(|r| {
            r.route("/mark/{id}", |r| {
                r.install_with(DefaultHeaders, |config| {
                    config.header("x-route", "mark");
                });
                r.post("", |call: ApplicationCall| async move {
                    call.attributes().put(&MARK, 7);
                    call.response().headers_mut().insert("x-first", http::HeaderValue::from_static("1"));
                    let body = call.receive_text().await?;
                    call.respond_text(format!("marked {body}")).await
                });
            });
            r.post("/check", |call: ApplicationCall| async move {
                let found = [
                    ("attribute", call.attributes().get(&MARK).is_some()),
                    ("path parameter", call.parameters().get("id").is_some()),
                    ("response field", !call.response().headers().is_empty()),
                    ("handled", call.is_handled()),
                ];
                let found: Vec<_> = found.iter().filter(|(_, seen)| *seen).map(|(what, _)| *what).collect();
                let body = call.receive_text().await?;
                call.respond_text(format!("{body}: {found:?}")).await
            });
        });
        let app = Arc::new(app);

        let first = ApplicationCall::new(app.clone(), request("/mark/1"), Body::full("a"));
        let (status, fields, body, spare) = run(first).await;
        assert_eq!((status, body.as_str()), (200, "marked a"));
        assert_eq!(fields, ["x-first", "x-route"]);

        let spare = spare.expect("a spare");
        assert!(Arc::ptr_eq(spare.application(), &app));
        let (status, fields, body, spare) = run(spare.into_call(request("/check"), Body::full("b"))).await;
        assert_eq!((status, fields.len(), body.as_str()), (200, 0, "b: []"), "nothing of the first call is left");

        // Unhandled: routing records 404 on the call; the next call made in the spare does not answer it.
        let (status, _, _, spare) = run(spare.expect("a spare").into_call(request("/missing"), Body::empty())).await;
        assert_eq!(status, 404);
        let (status, _, body, spare) = run(spare.expect("a spare").into_call(request("/check"), Body::full("c"))).await;
        assert_eq!((status, body.as_str()), (200, "c: []"));

        // The spare of a call that failed under a lock is as good.
        let again = spare.expect("a spare").into_call(request("/mark/2"), Body::full("d"));
        let poisoned = again.clone();
        let _ = std::thread::spawn(move || {
            let _guard = poisoned.attributes();
            panic!("poisons the attributes' lock");
        })
        .join();
        let (status, _, body, spare) = run(again).await;
        assert_eq!((status, body.as_str()), (200, "marked d"));
        let spare = spare.expect("a spare");
        assert!(!spare.inner.attributes.is_poisoned(), "the lock is cleared");
    }

    /// Every part of a call's state that a call can set without answering, set, then the call ended unanswered
    /// (its state is left as the call left it) and the next one made in its storage.
    #[tokio::test]
    async fn an_unanswered_calls_state_is_not_seen_by_the_next_call() {
        use crate::call::{DefaultFields, ResponseDefaults};
        let app = Arc::new(Application::default());
        let call = ApplicationCall::new(app, request("/first?q=1"), Body::full("unread"));
        call.response().set_status(http::StatusCode::ACCEPTED);
        call.response().set_header("x-set", "1").expect("a field");
        let default = vec![(http::header::SERVER, vec![http::HeaderValue::from_static("pending")])];
        call.response().defer_defaults(ResponseDefaults::new(DefaultFields::new(default), 1));
        call.set_unhandled_status(http::StatusCode::METHOD_NOT_ALLOWED, None);
        assert_eq!(call.parameters().get("q"), Some("1"), "the parameters, cached");
        call.set_route_matched();
        call.attributes().put(&MARK, 1);
        let (answer, _, spare) = call.into_engine_parts_and_spare();
        assert!(answer.is_none(), "not answered");

        let call = spare.expect("a spare").into_call(request("/second"), Body::empty());
        assert_eq!(call.response().status(), None);
        assert!(call.response().headers().is_empty(), "neither the field set nor the pending default");
        assert!(call.unhandled_status().is_none());
        assert_eq!(call.parameters().get("q"), None, "parameters of this request");
        assert!(!call.route_matched() && !call.is_handled() && !call.response().is_committed());
        assert!(call.attributes().get(&MARK).is_none());
        assert_eq!(call.request().path(), "/second");
        assert!(call.receive_text().await.expect("the body").is_empty(), "this call's body");
    }
}
