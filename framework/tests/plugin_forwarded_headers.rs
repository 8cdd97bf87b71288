//! ForwardedHeaders and XForwardedHeaders: the origin from trusted proxies, the connection's otherwise.

use std::net::SocketAddr;

use rotor::plugins::forwarded_headers::{ForwardedHeaders, ForwardedHeadersConfig, XForwardedHeaders, origin};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

/// Answers `scheme host port remote_host remote_ip`.
fn routes(app: &mut Application) {
    app.routing(|r| {
        r.get("/", |call: ApplicationCall| async move {
            let o = origin(&call);
            let ip = o.remote_ip.map_or_else(|| "-".to_owned(), |ip| ip.to_string());
            call.respond_text(format!("{} {} {} {} {ip}", o.scheme, o.host, o.port, o.remote_host)).await
        });
    });
}

async fn forwarded(configure: impl FnOnce(&mut ForwardedHeadersConfig) + 'static) -> TestApplication {
    test_application(move |app| {
        app.install_with(ForwardedHeaders, configure);
        routes(app);
    })
    .await
}

async fn x_forwarded(configure: impl FnOnce(&mut ForwardedHeadersConfig) + 'static) -> TestApplication {
    test_application(move |app| {
        app.install_with(XForwardedHeaders, configure);
        routes(app);
    })
    .await
}

async fn get(app: &TestApplication, from: &str, headers: &[(&str, &str)]) -> String {
    let mut request = app.client().get("/").remote_addr(from.parse::<SocketAddr>().unwrap());
    for (name, value) in headers {
        request = request.header(*name, *value);
    }
    let response = request.send().await;
    assert_eq!(response.status(), 200, "{headers:?}");
    response.text().await
}

const LOOPBACK: &str = "127.0.0.1:50000";
const PUBLIC: &str = "198.51.100.9:4000";

#[tokio::test]
async fn without_headers_the_origin_is_the_connection() {
    let app = forwarded(|_| {}).await;
    assert_eq!(get(&app, LOOPBACK, &[]).await, "http localhost 80 127.0.0.1 127.0.0.1");
    assert_eq!(
        get(&app, PUBLIC, &[("host", "example.org:8080")]).await,
        "http example.org 8080 198.51.100.9 198.51.100.9"
    );
    assert_eq!(get(&app, "[::1]:1", &[("host", "[::1]:9")]).await, "http [::1] 9 ::1 ::1");
}

#[tokio::test]
async fn forwarded_from_a_trusted_proxy_is_believed() {
    let app = forwarded(|_| {}).await;
    let headers = [("forwarded", "for=203.0.113.7:1234;proto=https;host=shop.example")];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "https shop.example 443 203.0.113.7 203.0.113.7");
    let headers = [("forwarded", r#"for="[2001:db8::1]";proto=http;host="shop.example:8081""#)];
    assert_eq!(get(&app, "[::1]:5", &headers).await, "http shop.example 8081 2001:db8::1 2001:db8::1");
    let headers = [("forwarded", "proto=https"), ("host", "plain.example")];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "https plain.example 443 127.0.0.1 127.0.0.1");
}

#[tokio::test]
async fn forwarded_from_an_untrusted_address_is_ignored() {
    let app = forwarded(|_| {}).await;
    let headers = [("forwarded", "for=10.9.9.9;proto=https;host=evil.example"), ("host", "real.example")];
    assert_eq!(get(&app, PUBLIC, &headers).await, "http real.example 80 198.51.100.9 198.51.100.9");
}

#[tokio::test]
async fn the_client_is_the_first_untrusted_hop_from_the_end() {
    let app = forwarded(|config| {
        config.trusted_proxies(["127.0.0.1", "10.0.0.0/8"]);
    })
    .await;
    // The client forged the first element; the edge proxy (10.0.0.2) saw 198.51.100.1 and said https.
    let headers =
        [("forwarded", "for=1.1.1.1;proto=gopher, for=198.51.100.1;proto=https;host=site.example, for=10.0.0.2")];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "https site.example 443 198.51.100.1 198.51.100.1");
    // Several headers form one list.
    let headers = [("forwarded", "for=198.51.100.1;host=a.example"), ("forwarded", "for=10.1.1.1")];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "http a.example 80 198.51.100.1 198.51.100.1");
    // An obfuscated node is not a trusted proxy: it is the client.
    let headers = [("forwarded", "for=1.1.1.1, for=_hidden, for=10.0.0.3")];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "http localhost 80 _hidden -");
    // Every hop trusted: the first is the client.
    let headers = [("forwarded", "for=10.0.0.5, for=10.0.0.6")];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "http localhost 80 10.0.0.5 10.0.0.5");
}

#[tokio::test]
async fn trust_all_takes_the_first_element() {
    let app = forwarded(|config| {
        config.trust_all();
    })
    .await;
    let headers = [("forwarded", "for=192.0.2.1;proto=https, for=10.0.0.2, for=unknown")];
    assert_eq!(get(&app, PUBLIC, &headers).await, "https localhost 443 192.0.2.1 192.0.2.1");
}

#[tokio::test]
async fn malformed_forwarded_headers_are_ignored() {
    let app = forwarded(|_| {}).await;
    for bad in [
        "for",
        "for=\"1.2.3.4",
        "for=1.2.3.4;for=5.6.7.8",
        "for=[::1",
        "for=1.2.3.4:99999",
        "for=1.2.3.4 trailing",
        "proto=\"ht tp\"",
        "host=\"a b\"",
        "for=\"\\",
        ";;;=;",
        "for=\u{e9}",
    ] {
        assert_eq!(
            get(&app, LOOPBACK, &[("forwarded", bad)]).await,
            "http localhost 80 127.0.0.1 127.0.0.1",
            "{bad:?}"
        );
    }
}

#[tokio::test]
async fn x_forwarded_headers_follow_the_same_trust_rules() {
    let app = x_forwarded(|config| {
        config.trusted_proxies(["127.0.0.0/8", "10.0.0.0/8"]);
    })
    .await;
    let headers = [
        ("x-forwarded-for", "6.6.6.6, 203.0.113.5, 10.0.0.7"),
        ("x-forwarded-proto", "https"),
        ("x-forwarded-host", "api.example"),
    ];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "https api.example 443 203.0.113.5 203.0.113.5");
    let headers = [("x-forwarded-for", "203.0.113.5"), ("x-forwarded-port", "8443"), ("x-forwarded-proto", "https")];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "https localhost 8443 203.0.113.5 203.0.113.5");
    // Lists as long as X-Forwarded-For are read at the client's position.
    let headers = [
        ("x-forwarded-for", "203.0.113.5, 10.0.0.7"),
        ("x-forwarded-proto", "https, http"),
        ("x-forwarded-host", "outer.example, inner.local"),
    ];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "https outer.example 443 203.0.113.5 203.0.113.5");
    // Untrusted sender: ignored.
    assert_eq!(
        get(&app, PUBLIC, &[("x-forwarded-for", "1.2.3.4"), ("x-forwarded-proto", "https")]).await,
        "http localhost 80 198.51.100.9 198.51.100.9"
    );
}

#[tokio::test]
async fn malformed_x_forwarded_values_are_ignored() {
    let app = x_forwarded(|_| {}).await;
    let headers = [
        ("x-forwarded-for", "not an ip, ,"),
        ("x-forwarded-proto", "h t t p"),
        ("x-forwarded-host", "a b"),
        ("x-forwarded-port", "http"),
    ];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "http localhost 80 127.0.0.1 127.0.0.1");
    let headers = [("x-forwarded-for", "::ffff:203.0.113.9"), ("x-forwarded-port", "70000")];
    assert_eq!(get(&app, LOOPBACK, &headers).await, "http localhost 80 ::ffff:203.0.113.9 ::ffff:203.0.113.9");
}

#[tokio::test]
async fn an_ipv4_mapped_proxy_address_matches_its_ipv4_block() {
    let app = x_forwarded(|_| {}).await;
    assert_eq!(
        get(&app, "[::ffff:127.0.0.1]:80", &[("x-forwarded-for", "192.0.2.44")]).await,
        "http localhost 80 192.0.2.44 192.0.2.44"
    );
}

#[tokio::test]
async fn a_malformed_trusted_proxy_fails_the_install() {
    for bad in ["10.0.0.0/33", "banana", "::1/129", "10.0.0.0/"] {
        let mut app = Application::default();
        let mut config = ForwardedHeadersConfig::default();
        config.trusted_proxies([bad]);
        let error = app.try_install(ForwardedHeaders, config).unwrap_err();
        assert!(error.is_config(), "{bad}");
        assert!(error.to_string().contains(bad), "{error}");
    }
}
