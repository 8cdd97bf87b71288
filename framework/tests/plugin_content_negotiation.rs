//! ContentNegotiation: JSON and custom converters chosen by Accept and Content-Type.

use std::any::Any;

use bytes::Bytes;
use rotor::plugins::content_negotiation::{
    ContentConverter, ContentNegotiation, IncomingContent, IncomingTarget, JsonConverter, Negotiate, NegotiateExt,
    OutgoingValue,
};
use rotor::plugins::double_receive::DoubleReceive;
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};
use serde::{Deserialize, Serialize};

#[derive(Debug, Serialize, Deserialize, PartialEq)]
struct User {
    id: u64,
    name: String,
}

type Table = Vec<Vec<String>>;

/// `text/csv` for tables (`Vec<Vec<String>>`) only; no quoting, for the test.
#[derive(Debug)]
struct Csv;

impl ContentConverter for Csv {
    fn serialize(&self, value: &dyn OutgoingValue, _media: &mime::Mime) -> rotor::Result<Option<Bytes>> {
        let Some(table) = value.as_any().downcast_ref::<Table>() else { return Ok(None) };
        let text: String = table.iter().map(|row| row.join(",") + "\n").collect();
        Ok(Some(Bytes::from(text)))
    }

    fn deserialize(&self, body: Bytes, _media: &mime::Mime, target: &mut dyn IncomingTarget) -> rotor::Result<bool> {
        let text = std::str::from_utf8(&body).map_err(|_| Error::bad_request("CSV must be UTF-8"))?;
        let table: Table = text.lines().map(|line| line.split(',').map(str::to_owned).collect()).collect();
        Ok(target.set_any(Box::new(table) as Box<dyn Any + Send>).is_ok())
    }
}

fn routes(r: &mut Route) {
    r.get("/user", |call: ApplicationCall| async move {
        call.respond(Negotiate::new(User { id: 1, name: "Ada".into() })).await
    });
    r.get("/table", |call: ApplicationCall| async move {
        let table: Table = vec![vec!["a".into(), "b".into()], vec!["1".into(), "2".into()]];
        call.respond_negotiated(table).await
    });
    r.post("/user", |call: ApplicationCall| async move {
        let user: User = call.receive_negotiated().await?;
        call.respond_negotiated(user).await
    });
    r.post("/maybe", |call: ApplicationCall| async move {
        let user: Option<User> = call.receive_negotiated().await?;
        call.respond_text(format!("{user:?}")).await
    });
    r.post("/table", |call: ApplicationCall| async move {
        let table: Table = call.receive_negotiated().await?;
        call.respond_text(format!("{} rows", table.len())).await
    });
    r.post("/plain", |call: ApplicationCall| async move {
        let user = call.receive::<User>().await?;
        call.respond_text(user.name).await
    });
    r.post("/twice", |call: ApplicationCall| async move {
        let user: User = call.receive_negotiated().await?;
        let raw: IncomingContent = call.receive().await?;
        call.respond_text(format!("{} {}", user.name, raw.bytes().len())).await
    });
}

async fn json_app() -> TestApplication {
    test_application(|app| {
        app.install_with(ContentNegotiation, |config| {
            config.receive_type::<User>();
        });
        app.install(DoubleReceive, ());
        app.routing(routes);
    })
    .await
}

async fn csv_app() -> TestApplication {
    test_application(|app| {
        app.install_with(ContentNegotiation, |config| {
            config.register(mime::APPLICATION_JSON, JsonConverter);
            config.register("text/csv; charset=utf-8".parse().unwrap(), Csv);
        });
        app.routing(routes);
    })
    .await
}

#[tokio::test]
async fn values_are_sent_as_json() {
    let app = json_app().await;
    for accept in [None, Some("application/json"), Some("*/*"), Some("application/*"), Some("text/html, */*;q=0.1")] {
        let mut request = app.client().get("/user");
        if let Some(accept) = accept {
            request = request.header("accept", accept);
        }
        let res = request.send().await;
        assert_eq!(res.status(), 200, "{accept:?}");
        assert_eq!(res.header("content-type"), Some("application/json"));
        assert_eq!(res.header("vary"), None);
        assert_eq!(res.text().await, r#"{"id":1,"name":"Ada"}"#);
    }
}

#[tokio::test]
async fn nothing_acceptable_is_406() {
    let app = json_app().await;
    for accept in ["text/html", "application/json;q=0", "image/*", "application/*;q=0.5, application/json;q=0"] {
        let res = app.client().get("/user").header("accept", accept).send().await;
        assert_eq!(res.status(), 406, "{accept}");
    }
}

#[tokio::test]
async fn json_bodies_are_received() {
    let app = json_app().await;
    for content_type in
        ["application/json", "application/json; charset=utf-8", "Application/JSON", "application/merge-patch+json"]
    {
        let res = app
            .client()
            .post("/user")
            .header("content-type", content_type)
            .body(r#"{"id":2,"name":"Bo"}"#)
            .send()
            .await;
        assert_eq!(res.status(), 200, "{content_type}: {:?}", res.error());
        assert_eq!(res.text().await, r#"{"id":2,"name":"Bo"}"#);
    }
    let res = app
        .client()
        .post("/user")
        .header("content-type", "application/json")
        .body("\u{feff}{\"id\":3,\"name\":\"C\"}")
        .send()
        .await;
    assert_eq!(res.status(), 200, "a byte-order mark is skipped");
}

#[tokio::test]
async fn malformed_json_is_400_with_the_position() {
    let app = json_app().await;
    let res =
        app.client().post("/user").header("content-type", "application/json").body("{\n  \"id\": \"x\"}").send().await;
    assert_eq!(res.status(), 400);
    let message = res.error().unwrap().message().to_owned();
    assert!(message.contains("line 2 column"), "{message}");
    assert!(message.contains("User"), "{message}");
    let res = app.client().post("/user").header("content-type", "application/json").body(r#"{"id":1}"#).send().await;
    assert_eq!(res.status(), 400);
    assert!(res.error().unwrap().message().contains("missing field `name`"));
}

#[tokio::test]
async fn empty_bodies_are_400_unless_the_type_is_optional() {
    let app = json_app().await;
    let res = app.client().post("/user").header("content-type", "application/json").send().await;
    assert_eq!(res.status(), 400);
    assert!(res.error().unwrap().message().contains("empty"));
    let res = app.client().post("/maybe").header("content-type", "application/json").send().await;
    assert_eq!(res.text().await, "None");
}

#[tokio::test]
async fn unsupported_or_missing_content_types_are_415() {
    let app = json_app().await;
    let res = app.client().post("/user").header("content-type", "text/csv").body("a,b").send().await;
    assert_eq!(res.status(), 415);
    let res = app.client().post("/user").body(r#"{"id":2,"name":"Bo"}"#).send().await;
    assert_eq!(res.status(), 415);
    assert!(res.error().unwrap().message().contains("no Content-Type"));
    let res =
        app.client().post("/user").header("content-type", "application/json; charset=latin1").body("{}").send().await;
    assert_eq!(res.status(), 415);
    let res = app.client().post("/user").header("content-type", "not a type").body("{}").send().await;
    assert_eq!(res.status(), 415);
}

#[tokio::test]
async fn a_default_content_type_reads_bodies_without_one() {
    let app = test_application(|app| {
        app.install_with(ContentNegotiation, |config| {
            config.default_content_type(Some(mime::APPLICATION_JSON));
        });
        app.routing(routes);
    })
    .await;
    let res = app.client().post("/user").body(r#"{"id":2,"name":"Bo"}"#).send().await;
    assert_eq!(res.status(), 200);
}

#[tokio::test]
async fn registered_types_work_with_plain_receive_and_double_receive() {
    let app = json_app().await;
    let res = app
        .client()
        .post("/plain")
        .header("content-type", "application/json")
        .body(r#"{"id":2,"name":"Bo"}"#)
        .send()
        .await;
    assert_eq!(res.text().await, "Bo");
    let res = app
        .client()
        .post("/twice")
        .header("content-type", "application/json")
        .body(r#"{"id":2,"name":"Bo"}"#)
        .send()
        .await;
    assert_eq!(res.text().await, "Bo 20");
}

#[tokio::test]
async fn a_custom_converter_is_negotiated() {
    let app = csv_app().await;
    let res = app.client().get("/table").header("accept", "text/csv").send().await;
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(res.header("vary"), Some("accept"));
    assert_eq!(res.text().await, "a,b\n1,2\n");
    let res = app.client().get("/table").header("accept", "application/json;q=0.9, text/*").send().await;
    assert_eq!(res.header("content-type"), Some("text/csv; charset=utf-8"));
    let res = app.client().get("/table").send().await;
    assert_eq!(res.header("content-type"), Some("application/json"), "no Accept: the first registered");
    assert_eq!(res.text().await, r#"[["a","b"],["1","2"]]"#);
    let res = app.client().get("/user").header("accept", "text/csv, application/json;q=0.1").send().await;
    assert_eq!(res.header("content-type"), Some("application/json"), "CSV cannot serialize a User");
    assert_eq!(app.client().get("/user").header("accept", "text/csv").send().await.status(), 406);
    let res = app.client().post("/table").header("content-type", "text/csv").body("a,b\n1,2\n3,4").send().await;
    assert_eq!(res.text().await, "3 rows");
    assert_eq!(app.client().post("/user").header("content-type", "text/csv").body("a,b").send().await.status(), 415);
}
