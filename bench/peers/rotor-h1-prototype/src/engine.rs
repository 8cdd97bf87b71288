//! The prototype engine: binds the connectors, accepts, and serves each connection with `wire::serve`,
//! answering each request with a call of the application. Besides what `wire` leaves out, it serves no TLS and
//! no HTTP/2, counts no calls in flight, and stops without grace (stop ends the accept loops; connections end
//! with the process).

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::Request;
use rotor::call::{ApplicationRequest, Body};
use rotor::engine::{ApplicationEngine, ApplicationEngineFactory, EngineSettings, ResolvedConnector};
use rotor::{Application, ApplicationCall, Error, Result};
use tokio::net::TcpListener;
use tokio::task::JoinHandle;

use crate::wire::{self, Responder};

/// Makes [`H1Engine`]s.
#[derive(Debug, Clone, Copy, Default)]
pub struct H1;

impl ApplicationEngineFactory for H1 {
    type Engine = H1Engine;

    fn create(&self) -> H1Engine {
        H1Engine::default()
    }
}

/// The prototype engine.
#[derive(Debug, Default)]
pub struct H1Engine {
    acceptors: Vec<JoinHandle<()>>,
}

impl ApplicationEngine for H1Engine {
    async fn start(
        &mut self,
        application: Arc<Application>,
        settings: &EngineSettings,
    ) -> Result<Vec<ResolvedConnector>> {
        let mut resolved = Vec::new();
        for connector in &settings.connectors {
            if connector.tls.is_some() {
                return Err(Error::internal("the HTTP/1 prototype engine serves no TLS"));
            }
            let listener = TcpListener::bind((connector.host.as_str(), connector.port)).await.map_err(|error| {
                Error::internal(format!("cannot bind {}:{}: {error}", connector.host, connector.port))
            })?;
            let local = listener.local_addr().map_err(|error| Error::internal(error.to_string()))?;
            resolved.push(ResolvedConnector::new(connector.host.clone(), local, false));
            self.acceptors.push(tokio::spawn(accept(listener, Arc::clone(&application))));
        }
        Ok(resolved)
    }

    fn stop(&mut self, _grace: Duration, _timeout: Duration) -> impl Future<Output = ()> + Send {
        for acceptor in self.acceptors.drain(..) {
            acceptor.abort();
        }
        std::future::ready(())
    }
}

async fn accept(listener: TcpListener, application: Arc<Application>) {
    loop {
        let (stream, remote) = match listener.accept().await {
            Ok(accepted) => accepted,
            Err(error) => {
                eprintln!("accept: {error}");
                continue;
            }
        };
        let Ok(local) = stream.local_addr() else { continue };
        tokio::spawn(wire::serve(stream, Calls { application: Arc::clone(&application), remote, local }));
    }
}

/// Answers each request with a call of the application.
struct Calls {
    application: Arc<Application>,
    remote: SocketAddr,
    local: SocketAddr,
}

impl Responder for Calls {
    async fn respond(&mut self, head: Request<()>) -> Option<(http::response::Parts, Bytes)> {
        let (parts, ()) = head.into_parts();
        let request = ApplicationRequest::new(parts, Some(self.remote), Some(self.local)).with_engine_date(true);
        let mut execution = ApplicationCall::new(Arc::clone(&self.application), request, Body::empty()).execute();
        let _ = (&mut execution).await;
        let (parts, body) = execution.call().response().take_http_response_without_length()?.into_parts();
        Some((parts, body_bytes(body).await))
    }
}

/// The bytes of a response body: at hand for a whole one, gathered for a stream (the prototype writes no chunks).
async fn body_bytes(body: Body) -> Bytes {
    match body.as_bytes() {
        Some(bytes) => bytes.clone(),
        None if body.is_empty_body() => Bytes::new(),
        None => body.collect().await.unwrap_or_default(),
    }
}
