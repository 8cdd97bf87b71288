//! actix-web 4, written the idiomatic way: `App` with two `get` routes, `HttpResponse::json` for the JSON body,
//! the `DefaultHeaders` middleware for `Server`, actix's default workers (one per CPU the process may use; one
//! under `taskset -c 0`). actix adds `Date` itself and sets TCP_NODELAY. The keep-alive timeout is raised from
//! actix's 5 s to 75 s so that the idle-connection phase measures connections, not closes.
//!
//! `PORT=0 actix-server` binds 127.0.0.1 on a free port and prints `listening on 127.0.0.1:<port>`.

use std::io::Write;
use std::time::Duration;

use actix_web::http::header::{ContentType, SERVER};
use actix_web::middleware::DefaultHeaders;
use actix_web::{App, HttpResponse, HttpServer, web};
use serde::Serialize;

#[derive(Serialize)]
struct Message {
    message: &'static str,
}

async fn plaintext() -> HttpResponse {
    HttpResponse::Ok().content_type(ContentType::plaintext()).body("Hello, World!")
}

async fn json() -> HttpResponse {
    HttpResponse::Ok().json(Message { message: "Hello, World!" })
}

#[actix_web::main]
async fn main() -> std::io::Result<()> {
    let port: u16 = std::env::var("PORT").ok().and_then(|port| port.parse().ok()).unwrap_or(8080);
    let server = HttpServer::new(|| {
        App::new()
            .wrap(DefaultHeaders::new().add((SERVER, "actix")))
            .route("/plaintext", web::get().to(plaintext))
            .route("/json", web::get().to(json))
    })
    .keep_alive(Duration::from_secs(75))
    .bind(("127.0.0.1", port))?;
    let mut stdout = std::io::stdout();
    for address in server.addrs() {
        writeln!(stdout, "listening on {address}")?;
    }
    stdout.flush()?;
    server.run().await
}
