//! Pipeline phases and how they relate to one another.

use std::borrow::Cow;
use std::fmt;

/// A named stage of a [`Pipeline`](super::Pipeline); interceptors are registered per phase and run in phase
/// order.
///
/// Phases are identified by name: two `PipelinePhase` values with the same name are the same phase. Define a
/// phase as a constant next to the pipeline that owns it, as Ktor does (`ApplicationCallPipeline.Setup`).
///
/// ```
/// use rotor::pipeline::PipelinePhase;
///
/// const AUTHENTICATE: PipelinePhase = PipelinePhase::new("Authenticate");
/// assert_eq!(AUTHENTICATE.name(), "Authenticate");
/// assert_eq!(AUTHENTICATE, PipelinePhase::from_name(String::from("Authenticate")));
/// ```
#[derive(Clone, PartialEq, Eq, Hash)]
pub struct PipelinePhase {
    name: Cow<'static, str>,
}

impl PipelinePhase {
    /// A phase with a static name; usable in constants.
    pub const fn new(name: &'static str) -> Self {
        PipelinePhase { name: Cow::Borrowed(name) }
    }

    /// A phase with a name made at run time.
    pub fn from_name(name: String) -> Self {
        PipelinePhase { name: Cow::Owned(name) }
    }

    /// The phase's name.
    pub fn name(&self) -> &str {
        &self.name
    }
}

impl fmt::Debug for PipelinePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Phase('{}')", self.name)
    }
}

impl fmt::Display for PipelinePhase {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.name)
    }
}

/// How a phase was added to its pipeline; [`merge`](super::Pipeline::merge) uses it to place phases that the
/// target pipeline lacks.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PhaseRelation {
    /// Appended at the end with [`add_phase`](super::Pipeline::add_phase).
    Last,
    /// Inserted just before another phase.
    Before(PipelinePhase),
    /// Inserted after another phase (and after that phase's earlier after-inserts).
    After(PipelinePhase),
}
