//! Ktor's pipeline semantics, one test per rule.

use std::future::Future;
use std::sync::{Arc, Mutex};

use super::StepSlot;
use super::*;
use crate::{Error, Result};

const A: PipelinePhase = PipelinePhase::new("A");
const B: PipelinePhase = PipelinePhase::new("B");
const C: PipelinePhase = PipelinePhase::new("C");

type Trail = Arc<Mutex<Vec<String>>>;
type TestPipeline = Pipeline<Vec<String>, Trail>;

fn block_on<T>(future: impl std::future::Future<Output = T>) -> T {
    tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(future)
}

fn names(pipeline: &TestPipeline) -> Vec<String> {
    pipeline.phases().map(|phase| phase.name().to_owned()).collect()
}

/// An interceptor that records `name` into the subject and returns (implicit proceed).
fn mark(pipeline: &mut TestPipeline, phase: &PipelinePhase, name: &'static str) {
    pipeline.intercept(phase, move |ctx| async move {
        ctx.subject().push(name.to_owned());
        Ok(())
    });
}

fn run(pipeline: &TestPipeline) -> Result<Vec<String>> {
    block_on(pipeline.execute(Trail::default(), Vec::new()))
}

#[test]
fn interceptors_run_in_phase_order_then_registration_order() {
    let mut pipeline = TestPipeline::new([A, B, C]);
    mark(&mut pipeline, &C, "c1");
    mark(&mut pipeline, &A, "a1");
    mark(&mut pipeline, &B, "b1");
    mark(&mut pipeline, &A, "a2");
    assert_eq!(run(&pipeline).unwrap(), ["a1", "a2", "b1", "c1"]);
}

#[test]
fn insert_phase_before_goes_just_before_the_reference() {
    let mut pipeline = TestPipeline::new([A, C]);
    pipeline.insert_phase_before(&C, PipelinePhase::new("B1"));
    pipeline.insert_phase_before(&C, PipelinePhase::new("B2"));
    pipeline.insert_phase_before(&A, PipelinePhase::new("First"));
    assert_eq!(names(&pipeline), ["First", "A", "B1", "B2", "C"]);
}

#[test]
fn repeated_insert_phase_after_goes_after_earlier_after_inserts() {
    let mut pipeline = TestPipeline::new([A, C]);
    pipeline.insert_phase_after(&A, PipelinePhase::new("A1"));
    pipeline.insert_phase_after(&A, PipelinePhase::new("A2"));
    pipeline.insert_phase_after(&A, PipelinePhase::new("A3"));
    // An insert after A1 sits after A1 but before A2, which relates to A, not A1.
    pipeline.insert_phase_after(&PipelinePhase::new("A1"), PipelinePhase::new("A1x"));
    assert_eq!(names(&pipeline), ["A", "A1", "A1x", "A2", "A3", "C"]);
}

#[test]
fn inserting_an_existing_phase_keeps_it_where_it_is() {
    let mut pipeline = TestPipeline::new([A, B, C]);
    pipeline.insert_phase_before(&A, C);
    pipeline.insert_phase_after(&C, A);
    pipeline.add_phase(B);
    assert_eq!(names(&pipeline), ["A", "B", "C"]);
}

#[test]
fn intercepting_an_unknown_phase_is_an_error() {
    let mut pipeline = TestPipeline::new([A]);
    let error = pipeline.try_intercept(&B, |_ctx| async { Ok(()) }).unwrap_err();
    assert!(error.is_unknown_phase(), "{error:?}");
    assert!(error.message().contains("'B'"), "{error}");
    assert!(error.message().contains("A"), "the message lists the known phases: {error}");
    let error = pipeline.try_insert_phase_after(&B, C).unwrap_err();
    assert!(error.is_unknown_phase());
    let error = pipeline.try_insert_phase_before(&B, C).unwrap_err();
    assert!(error.is_unknown_phase());
    assert_eq!(names(&pipeline), ["A"]);
}

#[test]
#[should_panic(expected = "phase 'B' is not registered")]
fn intercept_panics_with_the_message_for_an_unknown_phase() {
    let mut pipeline = TestPipeline::new([A]);
    pipeline.intercept(&B, |_ctx| async { Ok(()) });
}

#[test]
fn returning_without_proceed_lets_the_next_interceptor_run() {
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        ctx.subject().push("first".into());
        Ok(())
    });
    pipeline.intercept(&A, |ctx| async move {
        ctx.subject().push("second".into());
        Ok(())
    });
    mark(&mut pipeline, &B, "third");
    assert_eq!(run(&pipeline).unwrap(), ["first", "second", "third"]);
}

#[test]
fn proceed_runs_the_rest_then_returns_for_code_on_the_way_out() {
    let mut pipeline = TestPipeline::new([A, B, C]);
    pipeline.intercept(&A, |ctx| async move {
        ctx.subject().push("outer in".into());
        ctx.proceed().await?;
        let seen = ctx.subject().join(",");
        ctx.subject().push(format!("outer out after [{seen}]"));
        Ok(())
    });
    pipeline.intercept(&B, |ctx| async move {
        ctx.subject().push("inner in".into());
        ctx.proceed().await?;
        ctx.subject().push("inner out".into());
        Ok(())
    });
    mark(&mut pipeline, &C, "leaf");
    assert_eq!(
        run(&pipeline).unwrap(),
        ["outer in", "inner in", "leaf", "inner out", "outer out after [outer in,inner in,leaf,inner out]"]
    );
}

#[test]
fn proceed_with_replaces_the_subject_for_the_rest() {
    let mut pipeline = Pipeline::<String, ()>::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        let upper = ctx.subject().to_uppercase();
        ctx.proceed_with(upper).await
    });
    pipeline.intercept(&B, |ctx| async move {
        ctx.subject().push_str(" seen");
        Ok(())
    });
    assert_eq!(block_on(pipeline.execute((), "hello".into())).unwrap(), "HELLO seen");
}

#[test]
fn finish_stops_later_interceptors_while_outer_ones_resume() {
    let mut pipeline = TestPipeline::new([A, B, C]);
    pipeline.intercept(&A, |ctx| async move {
        ctx.proceed().await?;
        ctx.subject().push("outer resumed".into());
        Ok(())
    });
    pipeline.intercept(&B, |ctx| async move {
        ctx.subject().push("finisher".into());
        ctx.finish();
        assert!(ctx.is_finished());
        Ok(())
    });
    mark(&mut pipeline, &B, "never (same phase)");
    mark(&mut pipeline, &C, "never (later phase)");
    assert_eq!(run(&pipeline).unwrap(), ["finisher", "outer resumed"]);
}

#[test]
fn an_error_from_a_later_interceptor_comes_out_of_proceed_where_it_can_be_caught() {
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        match ctx.proceed().await {
            Err(error) if error.is_not_found() => {
                ctx.subject().push(format!("caught: {error}"));
                Ok(())
            }
            other => other,
        }
    });
    pipeline.intercept(&B, |_ctx| async move { Err(Error::not_found("no such user")) });
    assert_eq!(run(&pipeline).unwrap(), ["caught: no such user"]);
}

#[test]
fn an_uncaught_error_ends_the_execution() {
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept(&A, |_ctx| async move { Err(Error::bad_request("bad input")) });
    mark(&mut pipeline, &B, "never");
    let context = Trail::default();
    let error = block_on(pipeline.execute(context, Vec::new())).unwrap_err();
    assert!(error.is_bad_request());
}

#[test]
fn the_context_is_shared_by_every_interceptor() {
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        ctx.context().lock().unwrap().push("a".into());
        Ok(())
    });
    pipeline.intercept(&B, |ctx| async move {
        ctx.context().lock().unwrap().push("b".into());
        Ok(())
    });
    let trail = Trail::default();
    block_on(pipeline.execute(Arc::clone(&trail), Vec::new())).unwrap();
    assert_eq!(*trail.lock().unwrap(), ["a", "b"]);
}

#[test]
fn merge_places_missing_phases_by_relation_and_appends_interceptors() {
    let mut first = TestPipeline::new([A, C]);
    mark(&mut first, &A, "first a");
    mark(&mut first, &C, "first c");

    let mut second = TestPipeline::new([A, C]);
    second.insert_phase_after(&A, B);
    second.insert_phase_before(&A, PipelinePhase::new("Zero"));
    second.add_phase(PipelinePhase::new("End"));
    mark(&mut second, &A, "second a");
    mark(&mut second, &B, "second b");
    mark(&mut second, &C, "second c");
    mark(&mut second, &PipelinePhase::new("Zero"), "second zero");
    mark(&mut second, &PipelinePhase::new("End"), "second end");

    first.merge(&second);
    assert_eq!(names(&first), ["Zero", "A", "B", "C", "End"]);
    assert_eq!(
        run(&first).unwrap(),
        ["second zero", "first a", "second a", "second b", "first c", "second c", "second end"]
    );
    // The source is unchanged.
    assert_eq!(run(&second).unwrap(), ["second zero", "second a", "second b", "second c", "second end"]);
}

#[test]
fn merge_resolves_chains_of_relations_in_any_order() {
    let mut from = TestPipeline::new([A]);
    from.insert_phase_after(&A, B);
    from.insert_phase_after(&B, C);
    from.insert_phase_before(&A, PipelinePhase::new("Z"));
    mark(&mut from, &C, "c");
    let mut into = TestPipeline::new([PipelinePhase::new("Other")]);
    into.merge(&from);
    assert_eq!(names(&into), ["Other", "Z", "A", "B", "C"]);
    assert_eq!(run(&into).unwrap(), ["c"]);
}

#[test]
fn the_flattened_interceptor_list_is_built_once_and_shared() {
    let mut pipeline = TestPipeline::new([A, B]);
    mark(&mut pipeline, &A, "a");
    let first = Arc::as_ptr(pipeline.interceptors());
    run(&pipeline).unwrap();
    run(&pipeline).unwrap();
    assert!(std::ptr::eq(first, Arc::as_ptr(pipeline.interceptors())), "list rebuilt between executions");
    mark(&mut pipeline, &B, "b");
    assert_eq!(pipeline.interceptors().len(), 2, "a change rebuilds the list");
    assert_eq!(run(&pipeline).unwrap(), ["a", "b"]);
}

#[test]
fn interceptors_that_do_not_proceed_run_in_a_flat_loop_without_nesting() {
    // 200,000 interceptors on a 256 KiB stack: a chain of nested futures would overflow it.
    let mut pipeline = Pipeline::<u64, ()>::new([A]);
    for _ in 0..200_000 {
        pipeline
            .add_interceptor(
                &A,
                sync(|ctx: &PipelineContext<u64, ()>| {
                    *ctx.subject() += 1;
                    Ok(())
                }),
            )
            .unwrap();
    }
    let handle =
        std::thread::Builder::new().stack_size(256 * 1024).spawn(move || block_on(pipeline.execute((), 0))).unwrap();
    assert_eq!(handle.join().unwrap().unwrap(), 200_000);
}

#[test]
fn sync_interceptors_are_ready_steps_and_async_ones_are_boxed() {
    let mut pipeline = Pipeline::<Vec<bool>, ()>::new([A]);
    pipeline.intercept(&A, |ctx| async move {
        let ready = sync(|_ctx: &PipelineContext<Vec<bool>, ()>| Ok(())).intercept(ctx.clone()).is_ready();
        let boxed = super::interceptor::FnInterceptor::new(|_ctx: PipelineContext<Vec<bool>, ()>| async { Ok(()) })
            .intercept(ctx.clone())
            .is_ready();
        ctx.subject().extend([ready, boxed]);
        Ok(())
    });
    assert_eq!(block_on(pipeline.execute((), Vec::new())).unwrap(), [true, false]);
}

#[test]
fn an_empty_pipeline_returns_the_subject_unchanged() {
    let pipeline = Pipeline::<String, ()>::new([A, B]);
    assert!(pipeline.is_empty());
    assert_eq!(block_on(pipeline.execute((), "same".into())).unwrap(), "same");
}

#[test]
fn interceptors_may_await_real_work() {
    let mut pipeline = Pipeline::<Vec<u32>, ()>::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        tokio::task::yield_now().await;
        ctx.subject().push(1);
        ctx.proceed().await?;
        tokio::task::yield_now().await;
        ctx.subject().push(3);
        Ok(())
    });
    pipeline.intercept(&B, |ctx| async move {
        tokio::task::yield_now().await;
        ctx.subject().push(2);
        Ok(())
    });
    assert_eq!(block_on(pipeline.execute((), Vec::new())).unwrap(), [1, 2, 3]);
}

#[test]
fn a_panic_in_a_sync_interceptor_comes_out_of_an_earlier_proceed_as_an_error() {
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        let error = ctx.proceed().await.unwrap_err();
        assert!(error.is_panic(), "{error:?}");
        ctx.subject().push(format!("caught: {error}"));
        Ok(())
    });
    pipeline.intercept_sync(&B, |_ctx| panic!("sync bug"));
    let trail = run(&pipeline).unwrap();
    assert_eq!(trail.len(), 1);
    assert!(trail[0].contains("sync bug"), "{trail:?}");
}

#[test]
fn finish_from_a_kept_clone_stops_the_rest() {
    // A sync interceptor keeps a clone of its context; finishing through the clone is seen by the loop.
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept_sync(&A, |ctx| {
        let kept = ctx.clone();
        kept.finish();
        assert!(ctx.is_finished());
        ctx.subject().push("finisher".into());
        Ok(())
    });
    mark(&mut pipeline, &B, "never");
    assert_eq!(run(&pipeline).unwrap(), ["finisher"]);
}

#[test]
fn every_interceptor_has_started_once_the_execution_returns() {
    let mut pipeline = Pipeline::<Vec<bool>, ()>::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        let before = ctx.is_finished();
        ctx.proceed().await?;
        let after = ctx.is_finished();
        ctx.subject().extend([before, after]);
        Ok(())
    });
    pipeline.intercept_sync(&B, |_ctx| Ok(()));
    assert_eq!(block_on(pipeline.execute((), Vec::new())).unwrap(), [false, true]);
}

/// An in-place interceptor that records `name` into the subject.
fn mark_in_place(pipeline: &mut TestPipeline, phase: &PipelinePhase, name: &'static str) {
    let step = in_place(move |subject: &mut Vec<String>, _trail: &Trail| {
        subject.push(name.to_owned());
        Ok(())
    });
    pipeline.add_interceptor(phase, step).unwrap();
}

#[test]
fn in_place_interceptors_run_in_order_among_the_others() {
    let mut pipeline = TestPipeline::new([A, B, C]);
    mark_in_place(&mut pipeline, &A, "a1");
    mark_in_place(&mut pipeline, &A, "a2");
    // A sync interceptor locks the subject itself: the run of in-place ones must have let it go.
    pipeline.intercept_sync(&B, |ctx| {
        ctx.subject().push("b-sync".to_owned());
        Ok(())
    });
    mark_in_place(&mut pipeline, &B, "b1");
    mark(&mut pipeline, &C, "c-async");
    mark_in_place(&mut pipeline, &C, "c1");
    assert_eq!(run(&pipeline).unwrap(), ["a1", "a2", "b-sync", "b1", "c-async", "c1"]);
    assert!(pipeline.interceptors()[0].in_place && !pipeline.interceptors()[2].in_place);
}

#[test]
fn an_in_place_interceptor_sees_the_subject_an_earlier_proceed_left_and_an_error_ends_the_execution() {
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        ctx.proceed_with(vec!["replaced".to_owned()]).await?;
        ctx.subject().push("after".to_owned());
        Ok(())
    });
    mark_in_place(&mut pipeline, &B, "b1");
    assert_eq!(run(&pipeline).unwrap(), ["replaced", "b1", "after"]);

    let mut failing = TestPipeline::new([A, B]);
    failing.add_interceptor(&A, in_place(|_: &mut Vec<String>, _: &Trail| Err(Error::internal("stop")))).unwrap();
    mark_in_place(&mut failing, &B, "never");
    assert!(run(&failing).unwrap_err().to_string().contains("stop"));
}

#[test]
fn a_panic_in_an_in_place_interceptor_is_an_error_and_leaves_the_subject_usable() {
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept(&A, |ctx| async move {
        let error = ctx.proceed().await.unwrap_err();
        assert!(error.to_string().contains("in place boom"), "{error}");
        // The subject is usable after the panic (its lock, poisoned by the unwinding, is looked past), and the
        // run's lock was let go.
        ctx.subject().push("recovered".to_owned());
        Ok(())
    });
    pipeline.add_interceptor(&B, in_place(|_: &mut Vec<String>, _: &Trail| panic!("in place boom"))).unwrap();
    assert_eq!(run(&pipeline).unwrap(), ["recovered"]);
}

#[test]
fn finish_stops_in_place_interceptors_too() {
    let mut pipeline = TestPipeline::new([A, B]);
    pipeline.intercept_sync(&A, |ctx| {
        ctx.finish();
        Ok(())
    });
    mark_in_place(&mut pipeline, &B, "never");
    assert_eq!(run(&pipeline).unwrap(), Vec::<String>::new());
}

/// A pipeline that records where each execution's state lives, and keeps a clone of the context when asked.
type Kept = Arc<Mutex<Vec<PipelineContext<Vec<String>, Trail>>>>;

fn addresses(kept: Kept) -> TestPipeline {
    let mut pipeline = TestPipeline::new([A]);
    pipeline.intercept_sync(&A, move |ctx| {
        ctx.subject().push(ctx.state_address().to_string());
        if ctx.context().lock().unwrap().first().is_some_and(|flag| flag == "keep") {
            kept.lock().unwrap().push(ctx.clone());
        }
        Ok(())
    });
    pipeline
}

/// The state this thread keeps for the next execution of a `TestPipeline`, if any: where it lives.
fn spare_state() -> Option<String> {
    let state = super::spare::take::<super::context::Execution<Vec<String>, Trail>>()?;
    Some((Arc::as_ptr(&state) as *const () as usize).to_string())
}

#[test]
fn a_finished_state_is_kept_for_the_thread_and_its_context_is_dropped_at_the_end() {
    block_on(async {
        let pipeline = addresses(Arc::default());
        let trail = Trail::default();
        let first = pipeline.execute(Arc::clone(&trail), Vec::new()).await.unwrap();
        assert_eq!(Arc::strong_count(&trail), 1, "the context went with the end of the execution");
        assert_eq!(spare_state().as_deref(), Some(first[0].as_str()), "the state is kept for the next execution");
        assert_eq!(spare_state(), None, "taken once");
    });
}

#[test]
fn a_state_a_kept_context_refers_to_is_not_kept() {
    block_on(async {
        let kept = Arc::new(Mutex::new(Vec::new()));
        let pipeline = addresses(Arc::clone(&kept));
        let keep = Trail::new(Mutex::new(vec!["keep".to_owned()]));
        pipeline.execute(keep, Vec::new()).await.unwrap();
        assert_eq!(spare_state(), None, "the state stays the kept context's");
        let kept = kept.lock().unwrap();
        assert_eq!(kept[0].context().lock().unwrap().as_slice(), ["keep"], "and still has its context");
    });
}

#[test]
fn a_kept_state_keeps_nothing_of_its_pipeline_alive() {
    block_on(async {
        let marker = Arc::new(());
        let held = Arc::clone(&marker);
        let mut pipeline = TestPipeline::new([A]);
        pipeline.intercept_sync(&A, move |_ctx| {
            let _ = &held;
            Ok(())
        });
        pipeline.execute(Trail::default(), Vec::new()).await.unwrap();
        drop(pipeline);
        assert_eq!(Arc::strong_count(&marker), 1, "the interceptors went with their pipeline");
        assert!(spare_state().is_some(), "while the state itself is kept for the next execution");
    });
}

/// An in-place interceptor whose step waits once, then records `name` in the context (it cannot borrow the
/// subject) and ends with `result`.
struct WaitsInPlace {
    name: &'static str,
    fail: bool,
}

impl Interceptor<Vec<String>, Trail> for WaitsInPlace {
    fn intercept(&self, ctx: PipelineContext<Vec<String>, Trail>) -> Step {
        self.intercept_in_place(&mut ctx.subject(), ctx.context())
    }

    fn works_in_place(&self) -> bool {
        true
    }

    fn intercept_in_place(&self, subject: &mut Vec<String>, trail: &Trail) -> Step {
        subject.push(format!("{} started", self.name));
        let (trail, name, fail) = (Arc::clone(trail), self.name, self.fail);
        Step::boxed(async move {
            tokio::task::yield_now().await;
            trail.lock().unwrap().push(format!("{name} done"));
            if fail { Err(Error::internal("the step failed")) } else { Ok(()) }
        })
    }
}

/// An in-place interceptor that records, in the context, what the subject holds when it runs.
fn record_subject(pipeline: &mut TestPipeline, phase: &PipelinePhase) {
    let step = in_place(|subject: &mut Vec<String>, trail: &Trail| {
        trail.lock().unwrap().push(format!("next saw {}", subject.len()));
        Ok(())
    });
    pipeline.add_interceptor(phase, step).unwrap();
}

#[test]
fn a_pipeline_of_in_place_interceptors_runs_without_a_shared_state() {
    block_on(async {
        let _ = spare_state();
        let mut pipeline = TestPipeline::new([A, B]);
        mark_in_place(&mut pipeline, &A, "a1");
        mark_in_place(&mut pipeline, &B, "b1");
        let trail = Trail::default();
        let subject = pipeline.execute(Arc::clone(&trail), Vec::new()).await.unwrap();
        assert_eq!(subject, ["a1", "b1"]);
        assert_eq!(Arc::strong_count(&trail), 1, "the context went with the end of the execution");
        assert_eq!(spare_state(), None, "no shared state was made, so none was kept");
    });
}

#[test]
fn the_subject_goes_on_from_in_place_interceptors_to_the_first_that_needs_a_context() {
    block_on(async {
        let _ = spare_state();
        let mut pipeline = TestPipeline::new([A, B, C]);
        mark_in_place(&mut pipeline, &A, "a1");
        mark_in_place(&mut pipeline, &A, "a2");
        pipeline.intercept(&B, |ctx| async move {
            assert_eq!(*ctx.subject(), ["a1", "a2"], "what the in-place ones left");
            ctx.proceed().await?;
            ctx.subject().push("b on the way out".to_owned());
            Ok(())
        });
        mark_in_place(&mut pipeline, &C, "c1");
        let subject = pipeline.execute(Trail::default(), Vec::new()).await.unwrap();
        assert_eq!(subject, ["a1", "a2", "c1", "b on the way out"]);
        assert!(spare_state().is_some(), "from B on, the execution ran over a shared state");
    });
}

#[test]
fn an_in_place_step_that_waits_ends_before_the_next_interceptor_starts() {
    block_on(async {
        // Without a shared state, then with one (the first interceptor needs a context).
        for shared in [false, true] {
            let mut pipeline = TestPipeline::new([A, B]);
            if shared {
                mark(&mut pipeline, &A, "async");
            }
            pipeline.add_interceptor(&A, WaitsInPlace { name: "waits", fail: false }).unwrap();
            record_subject(&mut pipeline, &B);
            let trail = Trail::default();
            let subject = pipeline.execute(Arc::clone(&trail), Vec::new()).await.unwrap();
            let started = if shared { vec!["async", "waits started"] } else { vec!["waits started"] };
            assert_eq!(subject, started);
            let seen = format!("next saw {}", started.len());
            assert_eq!(*trail.lock().unwrap(), ["waits done", seen.as_str()], "shared: {shared}");
        }
    });
}

#[test]
fn an_error_or_a_panic_without_a_shared_state_ends_the_execution() {
    let mut failing = TestPipeline::new([A, B]);
    failing.add_interceptor(&A, WaitsInPlace { name: "fails", fail: true }).unwrap();
    record_subject(&mut failing, &B);
    let trail = Trail::default();
    let error = block_on(failing.execute(Arc::clone(&trail), Vec::new())).unwrap_err();
    assert!(error.to_string().contains("the step failed"), "{error}");
    assert_eq!(*trail.lock().unwrap(), ["fails done"], "the next interceptor did not run");

    let mut panicking = TestPipeline::new([A, B]);
    mark_in_place(&mut panicking, &A, "a1");
    panicking.add_interceptor(&A, in_place(|_: &mut Vec<String>, _: &Trail| panic!("direct boom"))).unwrap();
    record_subject(&mut panicking, &B);
    let trail = Trail::default();
    let error = block_on(panicking.execute(Arc::clone(&trail), Vec::new())).unwrap_err();
    assert!(error.to_string().contains("direct boom"), "{error}");
    assert!(trail.lock().unwrap().is_empty(), "the next interceptor did not run");
}

#[test]
fn a_state_is_kept_for_reuse_after_an_error_too_and_the_context_lives_as_long_as_the_future() {
    block_on(async {
        let _ = spare_state();
        let mut pipeline = TestPipeline::new([A]);
        pipeline.intercept_sync(&A, |_ctx| Err(Error::internal("stop")));
        let trail = Trail::default();
        let mut execution = pipeline.execute(Arc::clone(&trail), Vec::new());
        assert!((&mut execution).await.is_err());
        assert!(spare_state().is_some(), "the shared state went back to the thread after the error");
        assert_eq!(Arc::strong_count(&trail), 2, "the finished future still keeps the context");
        drop(execution);
        assert_eq!(Arc::strong_count(&trail), 1, "and lets it go when it is dropped");
    });
}

/// The slots the thread keeps with its spare `TestPipeline` state (their allocations' addresses), putting the
/// state back.
fn kept_slots() -> Vec<usize> {
    let Some(mut state) = super::spare::take::<super::context::Execution<Vec<String>, Trail>>() else { return vec![] };
    let addresses = Arc::get_mut(&mut state).expect("a spare state is unique").slot_addresses();
    super::spare::put(state);
    addresses
}

/// An async interceptor that waits once, records `name` and holds `marker` in its future while it runs.
fn waits_holding(pipeline: &mut TestPipeline, phase: &PipelinePhase, name: &'static str, marker: &Arc<()>) {
    let marker = Arc::clone(marker);
    pipeline.intercept(phase, move |ctx| {
        let marker = Arc::clone(&marker);
        async move {
            tokio::task::yield_now().await;
            let _ = &marker;
            ctx.subject().push(name.to_owned());
            Ok(())
        }
    });
}

#[test]
fn async_steps_wait_in_slots_that_the_thread_reuses_from_one_execution_to_the_next() {
    block_on(async {
        let _ = spare_state();
        let marker = Arc::new(());
        let mut pipeline = TestPipeline::new([A, B]);
        waits_holding(&mut pipeline, &A, "a", &marker);
        pipeline.intercept_sync(&A, |ctx| {
            ctx.subject().push("sync".to_owned());
            Ok(())
        });
        waits_holding(&mut pipeline, &B, "b", &marker);
        let trail = Trail::default();
        assert_eq!(pipeline.execute(Arc::clone(&trail), Vec::new()).await.unwrap(), ["a", "sync", "b"]);
        let first = kept_slots();
        assert_eq!(first.len(), 3, "a slot per interceptor up to the last held one: {first:?}");
        assert!(first[0] != 0 && first[1] == 0 && first[2] != 0, "the sync one holds nothing: {first:?}");
        assert_eq!(Arc::strong_count(&marker), 3, "the finished futures are gone; the closures keep theirs");
        assert_eq!(pipeline.execute(Arc::clone(&trail), Vec::new()).await.unwrap(), ["a", "sync", "b"]);
        assert_eq!(kept_slots(), first, "the second execution's futures were held in the same allocations");
    });
}

#[test]
fn steps_inside_a_proceed_wait_in_slots_that_the_thread_reuses_from_one_call_to_the_next() {
    block_on(async {
        let marker = Arc::new(());
        let mut pipeline = TestPipeline::new([A, B]);
        pipeline.intercept(&A, |ctx| async move {
            ctx.proceed().await?;
            ctx.subject().push("out".to_owned());
            Ok(())
        });
        waits_holding(&mut pipeline, &B, "b", &marker);
        waits_holding(&mut pipeline, &B, "c", &marker);
        let first_run = pipeline.execute(Trail::default(), Vec::new()).await.unwrap();
        assert_eq!(first_run, ["b", "c", "out"]);
        let ours = |sets: Vec<((usize, usize), Vec<usize>)>| sets.into_iter().filter(|((_, first), _)| *first == 1);
        let first: Vec<_> = ours(super::proceed_slots::spare_sets()).collect();
        assert_eq!(first.len(), 1, "{first:?}");
        assert!(first[0].1.len() == 2 && first[0].1.iter().all(|address| *address != 0), "{first:?}");
        assert_eq!(Arc::strong_count(&marker), 3, "the finished futures are gone; the closures keep theirs");
        assert_eq!(pipeline.execute(Trail::default(), Vec::new()).await.unwrap(), ["b", "c", "out"]);
        let second: Vec<_> = ours(super::proceed_slots::spare_sets()).collect();
        assert_eq!(second, first, "the second call's futures were held in the same allocations");
    });
}

#[test]
fn a_panic_in_a_held_step_is_an_error_and_the_next_execution_runs_as_usual() {
    block_on(async {
        let mut pipeline = TestPipeline::new([A, B]);
        pipeline.intercept(&A, |ctx| async move {
            let outcome = match ctx.proceed().await {
                Ok(()) => "ok".to_owned(),
                Err(error) if error.is_panic() => format!("caught: {error}"),
                Err(error) => format!("unexpected: {error}"),
            };
            ctx.subject().push(outcome);
            Ok(())
        });
        pipeline.intercept(&B, |ctx| async move {
            tokio::task::yield_now().await;
            if ctx.context().lock().unwrap().is_empty() {
                panic!("held bug");
            }
            ctx.subject().push("b".to_owned());
            Ok(())
        });
        let trail = pipeline.execute(Trail::default(), Vec::new()).await.unwrap();
        assert!(trail.len() == 1 && trail[0].contains("caught") && trail[0].contains("held bug"), "{trail:?}");
        let go = Trail::new(Mutex::new(vec!["go".to_owned()]));
        assert_eq!(pipeline.execute(go, Vec::new()).await.unwrap(), ["b", "ok"]);
    });
}

#[test]
fn dropping_an_execution_while_a_held_step_waits_drops_the_step() {
    block_on(async {
        let marker = Arc::new(());
        let mut pipeline = TestPipeline::new([A]);
        let held = Arc::clone(&marker);
        pipeline.intercept(&A, move |_ctx| {
            let held = Arc::clone(&held);
            async move {
                let _ = &held;
                std::future::pending::<()>().await;
                Ok(())
            }
        });
        let mut execution = pipeline.execute(Trail::default(), Vec::new());
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        assert!(std::pin::Pin::new(&mut execution).poll(&mut cx).is_pending());
        assert_eq!(Arc::strong_count(&marker), 3, "the closure's and the waiting step's");
        drop(execution);
        assert_eq!(Arc::strong_count(&marker), 2, "the step went with its execution");
    });
}

/// An interceptor that says its step waits in its slot without holding a future there.
struct PendingWithoutHold;

impl Interceptor<Vec<String>, Trail> for PendingWithoutHold {
    fn intercept(&self, _ctx: PipelineContext<Vec<String>, Trail>) -> Step {
        Step::ready(Ok(()))
    }

    fn holds_steps(&self) -> bool {
        true
    }

    fn intercept_held(
        &self,
        _ctx: &PipelineContext<Vec<String>, Trail>,
        _slot: &mut StepSlot,
        _cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        std::task::Poll::Pending
    }
}

#[test]
fn an_interceptor_that_says_it_waits_in_its_slot_without_holding_a_future_ends_the_execution_with_an_error() {
    let mut pipeline = TestPipeline::new([A]);
    pipeline.add_interceptor(&A, PendingWithoutHold).unwrap();
    let error = run(&pipeline).unwrap_err();
    assert!(error.to_string().contains("StepSlot::hold"), "{error}");
    assert!(run(&pipeline).unwrap_err().to_string().contains("StepSlot::hold"), "and the next execution the same");
}

/// An interceptor that holds its steps with the trait's default `intercept_held`: its `intercept` returns a
/// boxed future that waits once.
struct HoldsByDefault;

impl Interceptor<Vec<String>, Trail> for HoldsByDefault {
    fn intercept(&self, ctx: PipelineContext<Vec<String>, Trail>) -> Step {
        Step::boxed(async move {
            tokio::task::yield_now().await;
            ctx.subject().push("default".to_owned());
            Ok(())
        })
    }

    fn holds_steps(&self) -> bool {
        true
    }
}

#[test]
fn the_default_intercept_held_holds_a_pending_step_in_the_slot() {
    block_on(async {
        let _ = spare_state();
        let mut pipeline = TestPipeline::new([A]);
        pipeline.add_interceptor(&A, HoldsByDefault).unwrap();
        mark(&mut pipeline, &A, "after");
        assert_eq!(pipeline.execute(Trail::default(), Vec::new()).await.unwrap(), ["default", "after"]);
        let kept = kept_slots();
        assert!(!kept.is_empty() && kept[0] != 0, "the boxed future waited in the slot: {kept:?}");
    });
}

/// A future that panics when it is polled (after `waits` polls that wait), holding `marker` (a hand-written
/// future: unlike an `async` block's, what it holds is not dropped by the unwinding).
struct PanicsOnPoll {
    /// Only held: its strong count tells whether the future was dropped.
    _marker: Arc<()>,
    waits: usize,
}

impl Future for PanicsOnPoll {
    type Output = Result<()>;

    fn poll(mut self: std::pin::Pin<&mut Self>, cx: &mut std::task::Context<'_>) -> std::task::Poll<Result<()>> {
        if self.waits > 0 {
            self.waits -= 1;
            cx.waker().wake_by_ref();
            return std::task::Poll::Pending;
        }
        panic!("held bug at the top");
    }
}

/// An interceptor that catches a panic of its own held future's first poll, and answers with an error.
struct CatchesItsOwnPanic(Arc<()>);

impl Interceptor<Vec<String>, Trail> for CatchesItsOwnPanic {
    fn intercept(&self, _ctx: PipelineContext<Vec<String>, Trail>) -> Step {
        Step::ready(Ok(()))
    }

    fn holds_steps(&self) -> bool {
        true
    }

    fn intercept_held(
        &self,
        _ctx: &PipelineContext<Vec<String>, Trail>,
        slot: &mut StepSlot,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        let future = PanicsOnPoll { _marker: Arc::clone(&self.0), waits: 0 };
        match std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| slot.hold(future, cx))) {
            Ok(polled) => polled,
            Err(_) => std::task::Poll::Ready(Err(crate::Error::bad_request("caught my own panic"))),
        }
    }
}

#[test]
fn a_future_that_panicked_under_an_interceptor_s_own_catch_is_dropped_with_its_answer() {
    block_on(async {
        let marker = Arc::new(());
        let mut pipeline = TestPipeline::new([A]);
        pipeline.add_interceptor(&A, CatchesItsOwnPanic(Arc::clone(&marker))).unwrap();
        let error = pipeline.execute(Trail::default(), Vec::new()).await.unwrap_err();
        assert!(error.is_bad_request(), "{error}");
        assert_eq!(Arc::strong_count(&marker), 2, "the panicked future is not kept in the slot");
    });
}

#[test]
fn a_held_step_that_panics_in_the_execution_s_own_loop_is_dropped_and_its_slot_kept() {
    // At its first poll (in `StepSlot::hold`, inside the interceptor's call) and at a later one (the loop's).
    for waits in [0, 1] {
        block_on(async {
            let _ = spare_state();
            let marker = Arc::new(());
            let mut pipeline = TestPipeline::new([A]);
            let held = Arc::clone(&marker);
            pipeline.intercept(&A, move |_ctx| PanicsOnPoll { _marker: Arc::clone(&held), waits });
            let error = pipeline.execute(Trail::default(), Vec::new()).await.unwrap_err();
            assert!(error.is_panic() && error.to_string().contains("held bug at the top"), "{waits}: {error}");
            assert_eq!(
                Arc::strong_count(&marker),
                2,
                "{waits}: the panicked future was dropped; the closure's is left"
            );
            let first = kept_slots();
            assert!(first.len() == 1 && first[0] != 0, "{waits}: {first:?}");
            assert!(pipeline.execute(Trail::default(), Vec::new()).await.unwrap_err().is_panic());
            assert_eq!(kept_slots(), first, "{waits}: the slot's allocation was kept and reused");
        });
    }
}

/// An interceptor that fills its slot, then answers with a ready step (or panics).
struct FillsThenReady(Arc<()>, bool);

impl Interceptor<Vec<String>, Trail> for FillsThenReady {
    fn intercept(&self, _ctx: PipelineContext<Vec<String>, Trail>) -> Step {
        Step::ready(Ok(()))
    }

    fn holds_steps(&self) -> bool {
        true
    }

    fn intercept_held(
        &self,
        _ctx: &PipelineContext<Vec<String>, Trail>,
        slot: &mut StepSlot,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<Result<()>> {
        let marker = Arc::clone(&self.0);
        let step = slot.hold(
            async move {
                let _ = &marker;
                std::future::pending::<()>().await;
                Ok(())
            },
            cx,
        );
        assert!(step.is_pending(), "waits in the slot");
        assert!(!self.1, "fills its slot, then panics");
        std::task::Poll::Ready(Ok(()))
    }
}

#[test]
fn a_future_left_in_a_slot_by_a_step_that_did_not_hold_it_is_dropped_at_once() {
    block_on(async {
        for panics in [false, true] {
            let marker = Arc::new(());
            let mut pipeline = TestPipeline::new([A]);
            pipeline.add_interceptor(&A, FillsThenReady(Arc::clone(&marker), panics)).unwrap();
            pipeline.add_interceptor(&A, PendingWithoutHold).unwrap();
            let error = pipeline.execute(Trail::default(), Vec::new()).await.unwrap_err();
            let expected = if panics { "then panics" } else { "StepSlot" };
            assert!(error.to_string().contains(expected), "{error}");
            assert_eq!(Arc::strong_count(&marker), 2, "the left future is gone: nothing keeps it in a spare state");
        }
    });
}

/// The slots of both spare `TestPipeline` states the thread keeps, last kept first, putting them back in order.
fn both_kept_slots() -> Vec<Vec<usize>> {
    let take = || super::spare::take::<super::context::Execution<Vec<String>, Trail>>();
    let (Some(mut last), Some(mut first)) = (take(), take()) else { return vec![] };
    let addresses = [&mut last, &mut first]
        .map(|state| Arc::get_mut(state).expect("a spare state is unique").slot_addresses())
        .to_vec();
    super::spare::put(first);
    super::spare::put(last);
    addresses
}

#[test]
fn a_pipeline_run_inside_a_step_of_one_of_the_same_types_keeps_its_own_state_and_slots() {
    block_on(async {
        while spare_state().is_some() {}
        let mut inner = TestPipeline::new([A]);
        let marker = Arc::new(());
        waits_holding(&mut inner, &A, "inner 1", &marker);
        waits_holding(&mut inner, &A, "inner 2", &marker);
        let inner = Arc::new(inner);
        let mut outer = TestPipeline::new([A]);
        waits_holding(&mut outer, &A, "outer", &marker);
        outer.intercept(&A, move |ctx| {
            let inner = Arc::clone(&inner);
            async move {
                let ran = inner.execute(Trail::default(), Vec::new()).await?;
                ctx.subject().extend(ran);
                Ok(())
            }
        });
        let expected = ["outer", "inner 1", "inner 2"];
        assert_eq!(outer.execute(Trail::default(), Vec::new()).await.unwrap(), expected);
        let first = both_kept_slots();
        assert_eq!(first.len(), 2, "both states were kept");
        assert!(first.iter().flatten().all(|&address| address != 0), "{first:?}");
        for _ in 0..2 {
            assert_eq!(outer.execute(Trail::default(), Vec::new()).await.unwrap(), expected);
            assert_eq!(both_kept_slots(), first, "each execution found its own state and slots again");
        }
    });
}
