//! Pipelines: ordered phases of interceptors, the core of Rotor (Ktor's `Pipeline`).
//!
//! Everything a request goes through is a [`Pipeline`]: the application's call pipeline, each route, and the
//! send and receive pipelines that turn values into response bodies and request bodies into values.

mod context;
mod interceptor;
mod phase;
#[allow(clippy::module_inception)]
mod pipeline;
mod proceed_slots;
mod spare;
mod step;
mod step_slot;
#[cfg(test)]
mod tests;

pub(crate) use context::{Interceptors, List};
pub use context::{PipelineContext, PipelineExecution, Subject};
pub use interceptor::{InPlaceInterceptor, Interceptor, SyncInterceptor, in_place, sync};
pub use phase::{PhaseRelation, PipelinePhase};
pub use pipeline::Pipeline;
pub use step::{BoxFuture, Step};
pub(crate) use step_slot::Slots;
pub use step_slot::StepSlot;
