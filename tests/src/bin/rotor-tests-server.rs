//! The server the process tests start: `EngineMain` with the hello module and a `slow` module whose
//! `GET /slow?ms=N` answers after N milliseconds (for a stop with a call in flight).

use std::process::ExitCode;
use std::time::Duration;

use rotor::engine::EngineMain;
use rotor::prelude::*;
use rotor_tests::TestEngines;

fn slow(app: &mut Application) {
    app.routing(|r| {
        r.get("/slow", |call: ApplicationCall| async move {
            let ms: u64 = call.parameters().require("ms")?;
            tracing::info!(ms, "slow call started");
            tokio::time::sleep(Duration::from_millis(ms)).await;
            call.respond_text(format!("slept {ms} ms")).await
        });
    });
}

fn main() -> ExitCode {
    EngineMain::new(TestEngines).module("hello", hello::module).module("slow", slow).main()
}
