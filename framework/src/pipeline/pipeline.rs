//! `Pipeline<S, C>`: ordered phases of interceptors.

use std::fmt;
use std::future::Future;
use std::sync::{Arc, OnceLock};

use super::context::{Entry, Interceptors, List, PipelineExecution};
use super::interceptor::FnInterceptor;
use super::{Interceptor, PhaseRelation, PipelineContext, PipelinePhase};
use crate::{Error, Result};

/// Ordered phases, each with its interceptors, executed over a subject `S` in a context `C`.
///
/// This is Ktor's `Pipeline<TSubject, TContext>`, with its semantics:
/// - interceptors run in phase order, and within a phase in the order they were added;
/// - [`insert_phase_before`](Self::insert_phase_before) / [`insert_phase_after`](Self::insert_phase_after)
///   place new phases relative to existing ones (an after-insert goes after earlier after-inserts on the same
///   phase); a phase that is already present is left where it is;
/// - intercepting or inserting relative to a phase the pipeline does not have is an error;
/// - an interceptor that returns without proceeding lets the next one run; one that calls
///   [`proceed`](PipelineContext::proceed) runs the rest inside that call and resumes after it;
///   [`finish`](PipelineContext::finish) stops the interceptors that have not started;
/// - [`merge`](Self::merge) adds another pipeline's phases (placed by their relations) and appends its
///   interceptors phase by phase.
///
/// Executing walks one flat, pre-built list of every interceptor (built once after the last change and shared
/// by every execution), so the common case, where no interceptor calls `proceed`, is a plain loop.
///
/// ```
/// use rotor::pipeline::{Pipeline, PipelinePhase};
///
/// const SETUP: PipelinePhase = PipelinePhase::new("Setup");
/// const CALL: PipelinePhase = PipelinePhase::new("Call");
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let mut pipeline = Pipeline::<Vec<&'static str>, ()>::new([SETUP, CALL]);
/// pipeline.intercept(&CALL, |ctx| async move { ctx.subject().push("call"); Ok(()) });
/// pipeline.intercept(&SETUP, |ctx| async move { ctx.subject().push("setup"); Ok(()) });
/// let trail = pipeline.execute((), Vec::new()).await.unwrap();
/// assert_eq!(trail, ["setup", "call"]);
/// # });
/// ```
pub struct Pipeline<S, C> {
    phases: Vec<PhaseContent<S, C>>,
    flattened: OnceLock<Interceptors<S, C>>,
}

struct PhaseContent<S, C> {
    phase: PipelinePhase,
    relation: PhaseRelation,
    interceptors: Vec<Arc<dyn Interceptor<S, C>>>,
}

impl<S, C> Clone for PhaseContent<S, C> {
    fn clone(&self) -> Self {
        PhaseContent {
            phase: self.phase.clone(),
            relation: self.relation.clone(),
            interceptors: self.interceptors.clone(),
        }
    }
}

impl<S, C> Clone for Pipeline<S, C> {
    fn clone(&self) -> Self {
        Pipeline { phases: self.phases.clone(), flattened: self.flattened.clone() }
    }
}

impl<S, C> Default for Pipeline<S, C> {
    fn default() -> Self {
        Pipeline { phases: Vec::new(), flattened: OnceLock::new() }
    }
}

impl<S, C> fmt::Debug for Pipeline<S, C> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut list = f.debug_map();
        for content in &self.phases {
            list.entry(&content.phase.name(), &content.interceptors.len());
        }
        list.finish()
    }
}

impl<S, C> Pipeline<S, C> {
    /// A pipeline with `phases` in the given order and no interceptors.
    pub fn new(phases: impl IntoIterator<Item = PipelinePhase>) -> Self {
        let mut pipeline = Pipeline::default();
        for phase in phases {
            pipeline.add_phase(phase);
        }
        pipeline
    }

    /// The phases, in order.
    pub fn phases(&self) -> impl Iterator<Item = &PipelinePhase> + '_ {
        self.phases.iter().map(|content| &content.phase)
    }

    /// True if the pipeline has `phase`.
    pub fn has_phase(&self, phase: &PipelinePhase) -> bool {
        self.find(phase).is_some()
    }

    /// True if no phase has an interceptor.
    pub fn is_empty(&self) -> bool {
        self.phases.iter().all(|content| content.interceptors.is_empty())
    }

    /// The number of interceptors registered in `phase` (0 if the pipeline has no such phase).
    pub fn interceptor_count(&self, phase: &PipelinePhase) -> usize {
        self.find(phase).map_or(0, |index| self.phases[index].interceptors.len())
    }

    fn find(&self, phase: &PipelinePhase) -> Option<usize> {
        self.phases.iter().position(|content| content.phase == *phase)
    }

    fn changed(&mut self) {
        self.flattened = OnceLock::new();
    }

    fn unknown_phase(&self, phase: &PipelinePhase, action: &str) -> Error {
        let known: Vec<&str> = self.phases().map(PipelinePhase::name).collect();
        Error::unknown_phase(format!(
            "cannot {action}: phase '{phase}' is not registered in this pipeline (its phases: {}); add it first \
             with add_phase, insert_phase_before or insert_phase_after",
            known.join(", ")
        ))
    }

    /// Appends `phase` as the last phase; a phase already present is left where it is.
    pub fn add_phase(&mut self, phase: PipelinePhase) {
        if self.has_phase(&phase) {
            return;
        }
        self.phases.push(PhaseContent { phase, relation: PhaseRelation::Last, interceptors: Vec::new() });
        self.changed();
    }

    /// Inserts `phase` just before `reference`; a phase already present is left where it is.
    ///
    /// # Errors
    /// If `reference` is not a phase of this pipeline ([`Error::is_unknown_phase`]).
    pub fn try_insert_phase_before(&mut self, reference: &PipelinePhase, phase: PipelinePhase) -> Result<()> {
        if self.has_phase(&phase) {
            return Ok(());
        }
        let index = self
            .find(reference)
            .ok_or_else(|| self.unknown_phase(reference, &format!("insert phase '{phase}' before it")))?;
        let relation = PhaseRelation::Before(reference.clone());
        self.phases.insert(index, PhaseContent { phase, relation, interceptors: Vec::new() });
        self.changed();
        Ok(())
    }

    /// Inserts `phase` after `reference` and after any phase inserted earlier after `reference`; a phase
    /// already present is left where it is.
    ///
    /// # Errors
    /// If `reference` is not a phase of this pipeline ([`Error::is_unknown_phase`]).
    pub fn try_insert_phase_after(&mut self, reference: &PipelinePhase, phase: PipelinePhase) -> Result<()> {
        if self.has_phase(&phase) {
            return Ok(());
        }
        let index = self
            .find(reference)
            .ok_or_else(|| self.unknown_phase(reference, &format!("insert phase '{phase}' after it")))?;
        let mut last_related = index;
        for (i, content) in self.phases.iter().enumerate().skip(index + 1) {
            match &content.relation {
                PhaseRelation::After(to) if to == reference => last_related = i,
                PhaseRelation::After(_) | PhaseRelation::Before(_) => {}
                PhaseRelation::Last => break,
            }
        }
        let relation = PhaseRelation::After(reference.clone());
        self.phases.insert(last_related + 1, PhaseContent { phase, relation, interceptors: Vec::new() });
        self.changed();
        Ok(())
    }

    /// Like [`try_insert_phase_before`](Self::try_insert_phase_before).
    ///
    /// # Panics
    /// If `reference` is not a phase of this pipeline, with a message naming it and the phases there are.
    pub fn insert_phase_before(&mut self, reference: &PipelinePhase, phase: PipelinePhase) {
        if let Err(error) = self.try_insert_phase_before(reference, phase) {
            panic!("{error}");
        }
    }

    /// Like [`try_insert_phase_after`](Self::try_insert_phase_after).
    ///
    /// # Panics
    /// If `reference` is not a phase of this pipeline, with a message naming it and the phases there are.
    pub fn insert_phase_after(&mut self, reference: &PipelinePhase, phase: PipelinePhase) {
        if let Err(error) = self.try_insert_phase_after(reference, phase) {
            panic!("{error}");
        }
    }

    /// Registers `interceptor` at the end of `phase`.
    ///
    /// # Errors
    /// If `phase` is not a phase of this pipeline ([`Error::is_unknown_phase`]).
    pub fn add_interceptor(&mut self, phase: &PipelinePhase, interceptor: impl Interceptor<S, C>) -> Result<()> {
        self.add_shared_interceptor(phase, Arc::new(interceptor))
    }

    /// Registers an interceptor that is already shared (for example one taken from another pipeline).
    ///
    /// # Errors
    /// If `phase` is not a phase of this pipeline ([`Error::is_unknown_phase`]).
    pub fn add_shared_interceptor(
        &mut self,
        phase: &PipelinePhase,
        interceptor: Arc<dyn Interceptor<S, C>>,
    ) -> Result<()> {
        let index = self.find(phase).ok_or_else(|| self.unknown_phase(phase, "intercept it"))?;
        self.phases[index].interceptors.push(interceptor);
        self.changed();
        Ok(())
    }

    /// Adds the phases of `from` that this pipeline lacks, each placed by its relation (before or after the
    /// phase it was inserted relative to, or last), then appends `from`'s interceptors phase by phase after
    /// this pipeline's own.
    pub fn merge(&mut self, from: &Pipeline<S, C>) {
        let mut pending: Vec<&PhaseContent<S, C>> = from.phases.iter().collect();
        while !pending.is_empty() {
            let before = pending.len();
            pending.retain(|content| !self.insert_related(content));
            if pending.len() == before {
                // A relation to a phase neither pipeline has cannot be honoured: keep the phase, append it.
                let content = pending.remove(0);
                self.add_phase(content.phase.clone());
            }
        }
        for content in &from.phases {
            if content.interceptors.is_empty() {
                continue;
            }
            if let Some(index) = self.find(&content.phase) {
                self.phases[index].interceptors.extend(content.interceptors.iter().cloned());
            }
        }
        self.changed();
    }

    /// Places one phase of another pipeline here; false while the phase it relates to is missing.
    fn insert_related(&mut self, content: &PhaseContent<S, C>) -> bool {
        if self.has_phase(&content.phase) {
            return true;
        }
        match &content.relation {
            PhaseRelation::Last => {
                self.add_phase(content.phase.clone());
                true
            }
            PhaseRelation::Before(reference) => self.try_insert_phase_before(reference, content.phase.clone()).is_ok(),
            PhaseRelation::After(reference) => self.try_insert_phase_after(reference, content.phase.clone()).is_ok(),
        }
    }
}

impl<S: 'static, C: 'static> Pipeline<S, C> {
    /// The flattened list of every interceptor in phase order, built on first use after a change.
    pub(crate) fn interceptors(&self) -> &Interceptors<S, C> {
        self.flattened.get_or_init(|| {
            let entries = self.phases.iter().flat_map(|content| content.interceptors.iter().cloned().map(Entry::new));
            entries.collect::<Vec<_>>().into()
        })
    }
}

impl<S, C> Pipeline<S, C>
where
    S: Send + 'static,
    C: Send + Sync + 'static,
{
    /// Registers an async closure at the end of `phase`.
    ///
    /// # Errors
    /// If `phase` is not a phase of this pipeline ([`Error::is_unknown_phase`]).
    pub fn try_intercept<F, Fut>(&mut self, phase: &PipelinePhase, interceptor: F) -> Result<()>
    where
        F: Fn(PipelineContext<S, C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        self.add_interceptor(phase, FnInterceptor::new(interceptor))
    }

    /// Registers an async closure at the end of `phase`.
    ///
    /// # Panics
    /// If `phase` is not a phase of this pipeline, with a message naming it and the phases there are; use
    /// [`try_intercept`](Self::try_intercept) to get the error instead.
    pub fn intercept<F, Fut>(&mut self, phase: &PipelinePhase, interceptor: F)
    where
        F: Fn(PipelineContext<S, C>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = Result<()>> + Send + 'static,
    {
        if let Err(error) = self.try_intercept(phase, interceptor) {
            panic!("{error}");
        }
    }

    /// Registers a closure that never waits at the end of `phase`; it costs no allocation per call (see
    /// [`sync`](super::sync)).
    ///
    /// # Errors
    /// If `phase` is not a phase of this pipeline ([`Error::is_unknown_phase`]).
    pub fn try_intercept_sync<F>(&mut self, phase: &PipelinePhase, interceptor: F) -> Result<()>
    where
        F: Fn(&PipelineContext<S, C>) -> Result<()> + Send + Sync + 'static,
    {
        self.add_interceptor(phase, super::sync(interceptor))
    }

    /// Registers a closure that never waits at the end of `phase`; it costs no allocation per call (see
    /// [`sync`](super::sync)).
    ///
    /// # Panics
    /// If `phase` is not a phase of this pipeline; [`try_intercept_sync`](Self::try_intercept_sync) returns the
    /// error instead.
    pub fn intercept_sync<F>(&mut self, phase: &PipelinePhase, interceptor: F)
    where
        F: Fn(&PipelineContext<S, C>) -> Result<()> + Send + Sync + 'static,
    {
        if let Err(error) = self.try_intercept_sync(phase, interceptor) {
            panic!("{error}");
        }
    }

    /// Runs every interceptor in order over `subject` in `context`, and returns the subject as the last
    /// interceptor left it.
    ///
    /// # Errors
    /// The first error an interceptor returns that no earlier interceptor handled in its `proceed`.
    ///
    /// Nothing runs until the returned future is polled. It does not borrow the pipeline (it shares the list of
    /// interceptors), so it can outlive `&self`. It keeps `context` until it is dropped (awaiting it drops it).
    pub fn execute(&self, context: C, subject: S) -> PipelineExecution<S, C> {
        let interceptors = self.interceptors();
        if interceptors.is_empty() {
            return PipelineExecution::empty(context, subject);
        }
        PipelineExecution::start(List::Owned(Arc::clone(interceptors)), context, subject)
    }
}
