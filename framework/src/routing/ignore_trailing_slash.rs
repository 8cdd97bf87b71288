//! The IgnoreTrailingSlash plugin.

use std::sync::Arc;

use crate::Result;
use crate::application::{Plugin, PluginBuilder};
use crate::call::{ApplicationCall, AttributeKey};

const IGNORE_TRAILING_SLASH: AttributeKey<()> = AttributeKey::new("rotor.routing.IgnoreTrailingSlash");

/// Makes routing ignore a trailing slash: `/users/` resolves as `/users`, and a route declared with a
/// trailing slash (`get("/users/")`) matches with or without one (Ktor's `IgnoreTrailingSlash`). Install it on
/// the application: it marks each call in the Plugins phase, before routing runs.
///
/// ```
/// use rotor::prelude::*;
/// use rotor::routing::IgnoreTrailingSlash;
///
/// # #[tokio::main(flavor = "current_thread")]
/// # async fn main() {
/// let app = rotor_test::test_application(|app| {
///     app.install(IgnoreTrailingSlash, ());
///     app.routing(|r| {
///         r.get("/users", |call: ApplicationCall| async move { call.respond_text("users").await });
///     });
/// })
/// .await;
/// assert_eq!(app.client().get("/users/").send().await.text().await, "users");
/// # }
/// ```
#[derive(Clone, Copy, Debug, Default)]
pub struct IgnoreTrailingSlash;

impl Plugin for IgnoreTrailingSlash {
    type Config = ();
    type Instance = ();

    fn key(&self) -> &'static str {
        "IgnoreTrailingSlash"
    }

    fn install(&self, plugin: &mut PluginBuilder<'_>, _config: ()) -> Result<Arc<()>> {
        plugin.on_call(|call| {
            call.attributes().put(&IGNORE_TRAILING_SLASH, ());
            async { Ok(()) }
        });
        Ok(Arc::new(()))
    }
}

/// True when IgnoreTrailingSlash marked `call`.
pub(crate) fn ignores_trailing_slash(call: &ApplicationCall) -> bool {
    call.has_attribute(&IGNORE_TRAILING_SLASH)
}
