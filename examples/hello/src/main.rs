//! Runs the hello module in memory and prints what it answers.
//!
//! Rotor's HTTP engine (`rotor-hyper`) is the next step; until it lands, this shows the module working
//! through the in-memory engine, the same pipeline a server runs.

use std::io::Write;

#[tokio::main]
async fn main() -> rotor::Result<()> {
    let app = rotor_test::test_application(hello::module).await;
    let client = app.client();
    let mut out = std::io::stdout().lock();

    let response = client.get("/").send().await;
    writeln!(out, "GET /        -> {} {:?}", response.status(), response.text().await)?;

    let response = client.post("/echo").text("Rotor says hi").send().await;
    writeln!(out, "POST /echo   -> {} {:?}", response.status(), response.text().await)?;

    let response = client.get("/missing").send().await;
    writeln!(out, "GET /missing -> {}", response.status())?;
    Ok(())
}
