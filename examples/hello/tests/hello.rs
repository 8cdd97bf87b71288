//! The hello example, through the in-memory engine.

use rotor_test::test_application;

#[tokio::test]
async fn get_root_says_hello_as_text() {
    let app = test_application(hello::module).await;
    let response = app.client().get("/").send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(response.text().await, "Hello, world!");
}

#[tokio::test]
async fn post_echo_answers_the_body_back() {
    let app = test_application(hello::module).await;
    let response =
        app.client().post("/echo").header("content-type", "application/json").body(r#"{"a":1}"#).send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert_eq!(response.text().await, r#"{"a":1}"#);
}

#[tokio::test]
async fn post_echo_streams_a_large_body_back_unchanged() {
    let app = test_application(hello::module).await;
    let body: Vec<u8> = (0..1_000_000u32).map(|i| (i % 251) as u8).collect();
    let response = app.client().post("/echo").body(body.clone()).send().await;
    assert_eq!(response.header("content-type"), Some("application/octet-stream"));
    assert_eq!(response.bytes().await, body);
}

#[tokio::test]
async fn a_wrong_method_is_405_with_allow_and_other_paths_are_404() {
    let app = test_application(hello::module).await;
    let response = app.client().get("/echo").send().await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("allow"), Some("POST"));
    let response = app.client().post("/").send().await;
    assert_eq!(response.status(), 405);
    assert_eq!(response.header("allow"), Some("GET"));
    assert_eq!(app.client().get("/nope").send().await.status(), 404);
}
