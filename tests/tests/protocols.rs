//! HTTP/1.1 keep-alive and pipelining, HTTP/2 with prior knowledge, TLS with ALPN, streamed bodies.

mod support;

use std::sync::Arc;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rotor::prelude::*;
use rotor_tests::EngineKind;
use support::{RawConnection, start, start_on};
use tokio::net::TcpStream;

#[tokio::test]
async fn pipelined_requests_are_answered_in_order() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    connection
        .send(
            b"POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nfirst\
              GET / HTTP/1.1\r\nHost: t\r\n\r\n\
              POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: 5\r\n\r\nthird\
              GET /missing HTTP/1.1\r\nHost: t\r\n\r\n",
        )
        .await;
    let first = connection.read_response().await.unwrap();
    let second = connection.read_response().await.unwrap();
    let third = connection.read_response().await.unwrap();
    let fourth = connection.read_response().await.unwrap();
    assert_eq!((first.status, first.text().as_str()), (200, "first"));
    assert_eq!((second.status, second.text().as_str()), (200, "Hello, world!"));
    assert_eq!((third.status, third.text().as_str()), (200, "third"));
    assert_eq!(fourth.status, 404);
}

#[tokio::test]
async fn each_request_on_a_connection_is_read_with_its_own_field_names() {
    // The same positions carry other names, other spellings of a name, and more or fewer fields from one request
    // to the next (rotor-cio remembers names by position): each call sees exactly what its request sent.
    let server = start(|app: &mut Application| {
        app.routing(|r| {
            r.get("/fields", |call: ApplicationCall| async move {
                let mut fields: Vec<String> = call
                    .request()
                    .headers()
                    .iter()
                    .filter(|(name, _)| name.as_str().starts_with("x-"))
                    .map(|(name, value)| format!("{name}={}", value.to_str().unwrap_or("?")))
                    .collect();
                fields.sort();
                call.respond_text(fields.join(",")).await
            });
        });
    })
    .await;
    let mut connection = RawConnection::open(server.addr).await;
    let requests = [
        ("X-One: 1\r\nX-Two: 2\r\n", "x-one=1,x-two=2"),
        ("X-One: 1\r\nX-Two: 2\r\n", "x-one=1,x-two=2"),
        ("X-TWO: 2\r\nx-one: 1\r\n", "x-one=1,x-two=2"),
        ("X-Three: 3\r\n", "x-three=3"),
        ("X-One: a\r\nX-Two: b\r\nX-Three: c\r\nX-Four: d\r\n", "x-four=d,x-one=a,x-three=c,x-two=b"),
        ("X-One: 1\r\nX-Twp: 2\r\n", "x-one=1,x-twp=2"),
    ];
    for (fields, expected) in requests {
        connection.send(format!("GET /fields HTTP/1.1\r\nHost: t\r\n{fields}\r\n").as_bytes()).await;
        let response = connection.read_response().await.unwrap();
        assert_eq!((response.status, response.text().as_str()), (200, expected), "{fields:?}");
    }
}

#[tokio::test]
async fn single_header_lookups_routing_on_a_header_and_negotiation_read_what_the_request_sent() {
    // rotor-cio hands the call its fields as parsed and builds no header map for these lookups: they must find
    // what a map would (any case of the name, repeated fields in order, the first of them for `header`).
    let server = start(|app: &mut Application| {
        app.install(rotor::plugins::content_negotiation::ContentNegotiation, Default::default());
        app.routing(|r| {
            r.header("x-kind", "a", |r| {
                r.get("/lookup", |call: ApplicationCall| async move {
                    let request = call.request();
                    let tags = http::header::HeaderName::from_static("x-tag");
                    let all: Vec<String> =
                        request.header_values(&tags).map(|value| String::from_utf8_lossy(value).into_owned()).collect();
                    let first = request.header("X-TAG").unwrap_or("-").to_owned();
                    let host = request.host().unwrap_or("-").to_owned();
                    let built = request.request_headers().is_map_built();
                    call.respond_text(format!("{first}|{}|{host}|{built}", all.join(","))).await
                });
            });
            r.get("/negotiated", |call: ApplicationCall| async move {
                call.respond_negotiated(serde_json::json!({"ok": true})).await
            });
        });
    })
    .await;
    let mut connection = RawConnection::open(server.addr).await;
    connection
        .send(b"GET /lookup HTTP/1.1\r\nHost: example.com\r\nX-Tag: one\r\nx-kind: a\r\nx-tag: two\r\n\r\n")
        .await;
    let response = connection.read_response().await.unwrap();
    let text = response.text();
    let (seen, built) = text.rsplit_once('|').unwrap();
    assert_eq!((response.status, seen), (200, "one|one,two|example.com"));
    if EngineKind::from_env() == EngineKind::Cio {
        assert_eq!(built, "false", "rotor-cio built no map for lookups of one name");
    }
    connection.send(b"GET /lookup HTTP/1.1\r\nHost: example.com\r\nX-Kind: b\r\n\r\n").await;
    // The same answer on both engines (hyper's request comes as a map): no route matches (with another route in
    // the tree, the failed header selector answers 404).
    assert_eq!(connection.read_response().await.unwrap().status, 404, "the header selector fails");
    connection
        .send(b"GET /negotiated HTTP/1.1\r\nHost: t\r\nAccept: text/html\r\nAccept: application/json\r\n\r\n")
        .await;
    let response = connection.read_response().await.unwrap();
    assert_eq!((response.status, response.text().as_str()), (200, r#"{"ok":true}"#));
    connection.send(b"GET /negotiated HTTP/1.1\r\nHost: t\r\nAccept: text/html\r\n\r\n").await;
    assert_eq!(connection.read_response().await.unwrap().status, 406);
}

#[tokio::test]
async fn a_repeated_content_length_is_the_one_length_the_engine_framed_the_body_by() {
    // RFC 9110 8.6: the same length sent twice is that length; the engines read 5 bytes, and the application's
    // `content_length()` says 5. rotor-cio also takes `5, 5` in one field (for which `content_length()` said
    // `None` before); hyper refuses that one.
    let server = start(|app: &mut Application| {
        app.routing(|r| {
            r.post("/length", |call: ApplicationCall| async move {
                let declared = call.request().content_length();
                let body = call.receive_text().await?;
                call.respond_text(format!("{declared:?} {body}")).await
            });
        });
    })
    .await;
    let cio = EngineKind::from_env() == EngineKind::Cio;
    for (fields, accepted) in [
        ("Content-Length: 5\r\n", true),
        ("Content-Length: 5\r\nContent-Length: 5\r\n", true),
        ("Content-Length: 5, 5\r\n", cio),
    ] {
        let mut connection = RawConnection::open(server.addr).await;
        connection.send(format!("POST /length HTTP/1.1\r\nHost: t\r\n{fields}\r\nhello").as_bytes()).await;
        let response = connection.read_response().await;
        if accepted {
            let response = response.unwrap_or_else(|| panic!("{fields:?}: no answer"));
            assert_eq!((response.status, response.text().as_str()), (200, "Some(5) hello"), "{fields:?}");
        } else {
            assert!(response.is_none_or(|response| response.status == 400), "{fields:?}: refused");
        }
    }
}

#[tokio::test]
async fn keep_alive_carries_many_requests_on_one_connection() {
    let server = start(hello::module).await;
    let mut connection = RawConnection::open(server.addr).await;
    for i in 0..50 {
        let body = format!("request {i}");
        connection
            .send(format!("POST /echo HTTP/1.1\r\nHost: t\r\nContent-Length: {}\r\n\r\n{body}", body.len()).as_bytes())
            .await;
        let response = connection.read_response().await.unwrap();
        assert_eq!(response.text(), body);
        assert!(response.header("date").is_some(), "hyper adds a Date header");
    }
}

#[tokio::test]
async fn http2_with_prior_knowledge_over_cleartext() {
    // rotor-hyper's (rotor-cio speaks HTTP/1 only: tests/engine_cio.rs).
    let server = start_on(EngineKind::Hyper, hello::module, |_| {}).await;
    let stream = TcpStream::connect(server.addr).await.unwrap();
    let (mut sender, connection) =
        hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(stream)).await.unwrap();
    tokio::spawn(connection);
    for path in ["/", "/echo"] {
        let request = if path == "/" {
            http::Request::get("http://localhost/").body(Full::new(Bytes::new())).unwrap()
        } else {
            http::Request::post("http://localhost/echo").body(Full::new(Bytes::from("over h2"))).unwrap()
        };
        let response = sender.send_request(request).await.unwrap();
        assert_eq!(response.version(), http::Version::HTTP_2);
        assert_eq!(response.status(), 200);
        let body = response.into_body().collect().await.unwrap().to_bytes();
        let expected: &[u8] = if path == "/" { b"Hello, world!" } else { b"over h2" };
        assert_eq!(body, expected);
    }
}

#[tokio::test]
async fn a_streamed_response_arrives_chunked_and_whole() {
    let server = start(|app| {
        app.intercept(&ApplicationCallPipeline::CALL, |ctx| async move {
            let chunks = (0..100).map(|i| Ok::<_, std::io::Error>(Bytes::from(format!("{i:03},"))));
            ctx.call().respond(Body::from_stream(futures_util::stream::iter(chunks))).await
        });
    })
    .await;
    let mut connection = RawConnection::open(server.addr).await;
    connection.send(b"GET / HTTP/1.1\r\nHost: t\r\n\r\n").await;
    let response = connection.read_response().await.unwrap();
    assert_eq!(response.header("transfer-encoding"), Some("chunked"));
    let expected: String = (0..100).map(|i| format!("{i:03},")).collect();
    assert_eq!(response.text(), expected);
}

#[tokio::test]
async fn tls_serves_http1_and_http2_by_alpn() {
    let dir = std::env::temp_dir().join(format!("rotor-tls-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let certificate = dir.join("cert.pem");
    let private_key = dir.join("key.pem");
    std::fs::write(&certificate, certified.cert.pem()).unwrap();
    std::fs::write(&private_key, certified.signing_key.serialize_pem()).unwrap();

    use rotor::engine::{ApplicationEngine, ApplicationEngineFactory};
    let mut application = Application::default();
    hello::module(&mut application);
    let settings = rotor::engine::EngineSettings::new(vec![rotor::engine::ConnectorSettings {
        host: "127.0.0.1".into(),
        port: 0,
        tls: Some(rotor::engine::TlsFiles { certificate, private_key }),
    }]);
    let mut engine = rotor_hyper::Hyper.create();
    let connectors = engine.start(Arc::new(application), &settings).await.unwrap();
    assert_eq!(connectors[0].scheme(), "https");
    let addr = connectors[0].local_addr();

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    for (alpn, version) in [(&b"h2"[..], http::Version::HTTP_2), (&b"http/1.1"[..], http::Version::HTTP_11)] {
        let provider = Arc::new(rustls::crypto::ring::default_provider());
        let mut config = rustls::ClientConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots.clone())
            .with_no_client_auth();
        config.alpn_protocols = vec![alpn.to_vec()];
        let connector = tokio_rustls::TlsConnector::from(Arc::new(config));
        let stream = TcpStream::connect(addr).await.unwrap();
        let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
        let tls = connector.connect(name, stream).await.unwrap();
        assert_eq!(tls.get_ref().1.alpn_protocol(), Some(alpn));
        let request = http::Request::get("https://localhost/").body(Full::new(Bytes::new())).unwrap();
        let response = if version == http::Version::HTTP_2 {
            let (mut sender, connection) =
                hyper::client::conn::http2::handshake(TokioExecutor::new(), TokioIo::new(tls)).await.unwrap();
            tokio::spawn(connection);
            sender.send_request(request).await.unwrap()
        } else {
            let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.unwrap();
            tokio::spawn(connection);
            let mut request = request;
            *request.uri_mut() = "/".parse().unwrap();
            request.headers_mut().insert("host", "localhost".parse().unwrap());
            sender.send_request(request).await.unwrap()
        };
        assert_eq!(response.version(), version);
        assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "Hello, world!");
    }
    engine.stop(std::time::Duration::from_millis(100), std::time::Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn https_from_the_ssl_config_keys_runs_beside_http() {
    let dir = std::env::temp_dir().join(format!("rotor-ssl-config-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    std::fs::write(dir.join("cert.pem"), certified.cert.pem()).unwrap();
    std::fs::write(dir.join("key.pem"), certified.signing_key.serialize_pem()).unwrap();

    let (certificate, private_key) = (dir.join("cert.pem"), dir.join("key.pem"));
    let mut server = rotor::engine::embedded_server(
        rotor_hyper::Hyper,
        move |config| config.host("127.0.0.1").port(0).ssl(0, certificate, private_key),
        hello::module,
    );
    server.start(false).await.unwrap();
    let connectors = server.resolved_connectors().to_vec();
    assert_eq!(connectors.iter().map(|c| c.scheme()).collect::<Vec<_>>(), ["http", "https"]);

    let mut roots = rustls::RootCertStore::empty();
    roots.add(certified.cert.der().clone()).unwrap();
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let stream = TcpStream::connect(connectors[1].local_addr()).await.unwrap();
    let name = rustls_pki_types::ServerName::try_from("localhost").unwrap();
    let tls = tokio_rustls::TlsConnector::from(Arc::new(config)).connect(name, stream).await.unwrap();
    let (mut sender, connection) = hyper::client::conn::http1::handshake(TokioIo::new(tls)).await.unwrap();
    tokio::spawn(connection);
    let request = http::Request::get("/").header("host", "localhost").body(Full::new(Bytes::new())).unwrap();
    let response = sender.send_request(request).await.unwrap();
    assert_eq!(response.into_body().collect().await.unwrap().to_bytes(), "Hello, world!");

    server.stop_with(std::time::Duration::from_millis(100), std::time::Duration::from_secs(1)).await;
    let _ = std::fs::remove_dir_all(dir);
}
