//! The DoubleReceive plugin: the request body can be received more than once.

use std::sync::Arc;

use bytes::Bytes;

use crate::Result;
use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationCall, ApplicationReceivePipeline, AttributeKey, Body, ReceiveContext};
use crate::pipeline::PipelinePhase;

/// The call attribute holding the body bytes cached by the first receive.
const CACHED_BODY: AttributeKey<Bytes> = AttributeKey::new("rotor.plugins.DoubleReceive.body");

/// The receive-pipeline phase DoubleReceive runs in: right after Before (where request decompression and body
/// limits wrap the stream), before Transform. What is cached is therefore the decoded, size-checked body.
pub const DOUBLE_RECEIVE_PHASE: PipelinePhase = PipelinePhase::new("DoubleReceive");

/// Lets a call receive its body more than once, as any type each time (Ktor's `DoubleReceive`).
///
/// The first [`receive`](ApplicationCall::receive) reads the whole body into memory and keeps the bytes in a
/// call attribute; every later receive (of any type) converts those cached bytes again, and
/// [`take_body`](ApplicationCall::take_body) then yields them too. Without this plugin a second receive is an
/// error. Because the body is buffered, pair it with [`RequestBodyLimit`](super::request_body_limit) when
/// clients are not trusted.
///
/// ```
/// use rotor::prelude::*;
/// use rotor::plugins::double_receive::{DoubleReceive, received_bytes};
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(|app| {
///     app.install(DoubleReceive, ());
///     app.routing(|r| {
///         r.post("/", |call: ApplicationCall| async move {
///             let text = call.receive_text().await?;
///             let bytes = call.receive_bytes().await?;
///             assert_eq!(received_bytes(&call), Some(bytes.clone()));
///             call.respond_text(format!("{text} ({} bytes)", bytes.len())).await
///         });
///     });
/// })
/// .await;
/// let res = app.client().post("/").text("hello").send().await;
/// assert_eq!(res.text().await, "hello (5 bytes)");
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct DoubleReceive;

impl Plugin for DoubleReceive {
    type Config = ();
    type Instance = ();

    fn key(&self) -> &'static str {
        "DoubleReceive"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, _config: ()) -> Result<Arc<()>> {
        let receive = plugin.pipeline_mut().receive_pipeline_mut();
        if !receive.has_phase(&DOUBLE_RECEIVE_PHASE) {
            receive.try_insert_phase_after(&ApplicationReceivePipeline::BEFORE, DOUBLE_RECEIVE_PHASE)?;
        }
        receive.try_intercept(&DOUBLE_RECEIVE_PHASE, cache_body)?;
        Ok(Arc::new(()))
    }
}

/// The body bytes the first receive cached, once a receive has run with DoubleReceive installed.
pub fn received_bytes(call: &ApplicationCall) -> Option<Bytes> {
    call.attributes().get(&CACHED_BODY).cloned()
}

async fn cache_body(ctx: ReceiveContext) -> Result<()> {
    let call = ctx.context();
    let cached = received_bytes(call);
    let bytes = match cached {
        // A later receive: the body it was given is the one put back below (possibly re-wrapped by Before
        // interceptors, lazily, so never read); the cache is the truth.
        Some(bytes) => bytes,
        None => {
            let body = ctx.subject().take_value::<Body>();
            let Some(body) = body else { return Ok(()) };
            let bytes = body.collect().await?;
            call.attributes().put(&CACHED_BODY, bytes.clone());
            bytes
        }
    };
    call.replace_body(Body::full(bytes.clone()));
    ctx.subject().set_value(Body::full(bytes));
    Ok(())
}
