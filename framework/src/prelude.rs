//! The names most applications use: `use rotor::prelude::*;`.

pub use crate::application::{
    Application, ApplicationCallPipeline, ApplicationPlugin, CallFailed, CallSetup, Plugin, PluginBuilder,
    ResponseSent, create_application_plugin,
};
pub use crate::call::{ApplicationCall, AttributeKey, Body, OutgoingContent, Parameters};
pub use crate::http::{HeaderValue, Method, StatusCode};
pub use crate::plugins::content_negotiation::NegotiateExt;
pub use crate::plugins::static_content::StaticFiles;
pub use crate::routing::{IgnoreTrailingSlash, Route};
pub use crate::{Error, Result};
