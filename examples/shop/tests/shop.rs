//! The shop through the in-memory engine: the JSON API and the static site with the plugins together.

use rotor_test::test_application;
use serde_json::Value;

#[tokio::test]
async fn the_api_lists_shows_and_adds_items_as_json() {
    let app = test_application(shop::module).await;
    let client = app.client();

    let response = client.get("/api/items").header("accept", "application/json").send().await;
    assert_eq!(response.status(), 200);
    assert_eq!(response.header("content-type"), Some("application/json"));
    assert!(response.header("x-request-id").is_some(), "CallId echoes an id");
    assert!(response.header("date").is_some() && response.header("server").is_some(), "DefaultHeaders");
    let items: Value = serde_json::from_str(&response.text().await).unwrap();
    assert_eq!(items.as_array().unwrap().len(), 2);

    let created = client
        .post("/api/items")
        .header("content-type", "application/json")
        .body(r#"{"name":"Gearbox","price_cents":45000}"#)
        .send()
        .await;
    assert_eq!(created.status(), 201);
    let item: Value = serde_json::from_str(&created.text().await).unwrap();
    assert_eq!(item["id"], 3);
    assert_eq!(item["name"], "Gearbox");

    let shown = client.get("/api/items/3").send().await;
    assert_eq!(shown.status(), 200);
    assert_eq!(serde_json::from_str::<Value>(&shown.text().await).unwrap()["price_cents"], 45000);
}

#[tokio::test]
async fn bad_input_gets_the_right_4xx() {
    let app = test_application(shop::module).await;
    let client = app.client();
    let malformed =
        client.post("/api/items").header("content-type", "application/json").body("{\"name\":").send().await;
    assert_eq!(malformed.status(), 400);
    assert!(malformed.text().await.contains("line 1"), "serde's position is in the message");
    let empty_name =
        client.post("/api/items").header("content-type", "application/json").body(r#"{"name":" ","price_cents":1}"#);
    assert_eq!(empty_name.send().await.status(), 400);
    let xml = client.post("/api/items").header("content-type", "application/xml").body("<item/>").send().await;
    assert_eq!(xml.status(), 415);
    let not_acceptable = client.get("/api/items").header("accept", "text/csv").send().await;
    assert_eq!(not_acceptable.status(), 406);
    let bad_id = client.get("/api/items/seven").send().await;
    assert_eq!(bad_id.status(), 400);
    let missing = client.get("/api/items/99").send().await;
    assert_eq!(missing.status(), 404);
    assert_eq!(client.delete("/api/items").send().await.status(), 405);
}

#[tokio::test]
async fn the_static_site_is_served_compressed_cached_and_conditional() {
    let app = test_application(shop::module).await;
    let client = app.client();

    let index = client.get("/").header("accept-encoding", "gzip").send().await;
    assert_eq!(index.status(), 200);
    assert_eq!(index.header("content-type"), Some("text/html; charset=utf-8"));
    assert_eq!(index.header("content-encoding"), Some("gzip"), "Compression");
    let etag = index.header("etag").expect("static files carry an ETag").to_owned();

    let again = client.get("/").header("if-none-match", &etag).send().await;
    assert_eq!(again.status(), 304, "ConditionalHeaders");

    let css = client.get("/style.css").send().await;
    assert_eq!(css.header("cache-control"), Some("max-age=3600"), "CachingHeaders");

    let range = client.get("/style.css").header("range", "bytes=0-3").send().await;
    assert_eq!(range.status(), 206, "PartialContent");
    assert_eq!(range.text().await, "body");

    let head = client.head("/api/items").send().await;
    assert_eq!(head.status(), 200, "AutoHeadResponse");
    assert_eq!(head.text().await, "");

    let nothing = client.get("/nothing.txt").send().await;
    assert_eq!(nothing.status(), 404);
    assert_eq!(nothing.text().await, "There is nothing here. Try /api/items or /.", "StatusPages");

    let escape = client.get("/..%2f..%2fCargo.toml").send().await;
    assert!(escape.status().is_client_error(), "{}", escape.status());
}
