//! Routing end to end: path patterns, request path splitting, and priority between overlapping routes.

use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

/// A handler answering `name` followed by the parameters, as `name a=1 b=2`.
fn answer(
    name: &'static str,
) -> impl Fn(ApplicationCall) -> std::pin::Pin<Box<dyn Future<Output = rotor::Result<()>> + Send>> + Send + Sync + 'static
{
    move |call: ApplicationCall| {
        Box::pin(async move {
            let mut text = String::from(name);
            let parameters = call.parameters();
            for (key, value) in parameters.iter() {
                text.push_str(&format!(" {key}={value}"));
            }
            call.respond_text(text).await
        })
    }
}

async fn get(app: &TestApplication, path: &str) -> (u16, String) {
    let response = app.client().get(path).send().await;
    (response.status().as_u16(), response.text().await)
}

#[tokio::test]
async fn constant_segments_match_exactly_and_are_decoded_when_declared() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/hello/world", answer("hw"));
            r.get("/hi there", answer("space"));
            r.get("/a%2Fb", answer("encoded-slash"));
            r.get("/caf%C3%A9", answer("cafe"));
        });
    })
    .await;
    assert_eq!(get(&app, "/hello/world").await, (200, "hw".into()));
    assert_eq!(get(&app, "//hello///world").await, (200, "hw".into()), "empty segments are skipped");
    assert_eq!(get(&app, "/hello").await.0, 404);
    assert_eq!(get(&app, "/hello/world/x").await.0, 404);
    assert_eq!(get(&app, "/Hello/world").await.0, 404, "constants are case-sensitive");
    assert_eq!(get(&app, "/hi%20there").await, (200, "space".into()));
    assert_eq!(get(&app, "/a%2Fb").await, (200, "encoded-slash".into()));
    assert_eq!(get(&app, "/a/b").await.0, 404, "%2F stays inside its segment");
    assert_eq!(get(&app, "/caf%C3%A9").await, (200, "cafe".into()));
}

#[tokio::test]
async fn parameters_capture_one_decoded_segment() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/users/{id}", answer("user"));
            r.get("/users/{id}/posts/{post}", answer("post"));
            r.get("/typed/{n}", |call: ApplicationCall| async move {
                let n: u64 = call.parameters().require("n")?;
                call.respond_text(format!("{}", n * 2)).await
            });
        });
    })
    .await;
    assert_eq!(get(&app, "/users/42").await, (200, "user id=42".into()));
    assert_eq!(get(&app, "/users/J%C3%BCrgen%2Fx").await, (200, "user id=Jürgen/x".into()));
    assert_eq!(get(&app, "/users/1/posts/2").await, (200, "post id=1 post=2".into()));
    assert_eq!(get(&app, "/users").await.0, 404);
    assert_eq!(get(&app, "/users/").await.0, 404, "a parameter never matches the empty trailing segment");
    assert_eq!(get(&app, "/typed/21").await, (200, "42".into()));
    let (status, text) = get(&app, "/typed/abc").await;
    assert_eq!(status, 400);
    assert!(text.contains("`n`"), "{text}");
}

#[tokio::test]
async fn path_parameters_come_before_query_parameters() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/items/{id}", answer("item"));
        });
    })
    .await;
    let response = app.client().get("/items/7").query("page", "2").send().await;
    assert_eq!(response.text().await, "item id=7 page=2");
}

#[tokio::test]
async fn optional_parameters_match_with_or_without_a_segment() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/items/{id?}", answer("items"));
            r.get("/opt/{a?}/x", answer("middle"));
        });
    })
    .await;
    assert_eq!(get(&app, "/items").await, (200, "items".into()));
    assert_eq!(get(&app, "/items/5").await, (200, "items id=5".into()));
    assert_eq!(get(&app, "/items/").await, (200, "items".into()), "an empty trailing segment is a missing optional");
    assert_eq!(get(&app, "/items/5/6").await.0, 404);
    assert_eq!(get(&app, "/opt/1/x").await, (200, "middle a=1".into()));
}

#[tokio::test]
async fn wildcards_match_any_one_segment_without_capturing() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/w/*/end", answer("wild"));
        });
    })
    .await;
    assert_eq!(get(&app, "/w/anything/end").await, (200, "wild".into()));
    assert_eq!(get(&app, "/w/end").await.0, 404);
    assert_eq!(get(&app, "/w/a/b/end").await.0, 404);
}

#[tokio::test]
async fn tailcards_capture_every_remaining_segment() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/files/{path...}", answer("files"));
            r.get("/any/{...}", answer("any"));
            r.get("/static/prefix-{rest...}", answer("prefixed"));
        });
    })
    .await;
    assert_eq!(get(&app, "/files/a/b%2Fc/d").await, (200, "files path=a path=b/c path=d".into()));
    assert_eq!(get(&app, "/files").await, (200, "files".into()), "a tailcard matches no segment at all");
    assert_eq!(get(&app, "/files/a/").await, (200, "files path=a path=".into()), "the trailing slash is kept");
    assert_eq!(get(&app, "/any/x/y").await, (200, "any".into()));
    assert_eq!(get(&app, "/static/prefix-a/b").await, (200, "prefixed rest=a rest=b".into()));
    assert_eq!(get(&app, "/static/other").await.0, 404);
}

#[tokio::test]
async fn prefix_and_suffix_parameters() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/u/user-{name}", answer("user"));
            r.get("/d/{id}.json", answer("json"));
            r.get("/d/{id}", answer("plain"));
            r.get("/v/v{major}-beta", answer("both"));
        });
    })
    .await;
    assert_eq!(get(&app, "/u/user-bob").await, (200, "user name=bob".into()));
    assert_eq!(get(&app, "/u/bob").await.0, 404);
    assert_eq!(get(&app, "/d/7.json").await, (200, "json id=7".into()));
    assert_eq!(get(&app, "/d/7").await, (200, "plain id=7".into()));
    assert_eq!(get(&app, "/v/v2-beta").await, (200, "both major=2".into()));
    assert_eq!(get(&app, "/v/v2").await.0, 404);
}

#[tokio::test]
async fn trailing_slash_is_significant_by_default() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/", answer("root"));
            r.get("/a", answer("a"));
            r.get("/b/", answer("b/"));
            r.route("/c", |r| {
                r.get("/", answer("c/"));
            });
        });
    })
    .await;
    assert_eq!(get(&app, "/").await, (200, "root".into()));
    assert_eq!(get(&app, "/a").await, (200, "a".into()));
    assert_eq!(get(&app, "/a/").await.0, 404);
    assert_eq!(get(&app, "/b/").await, (200, "b/".into()));
    assert_eq!(get(&app, "/b").await.0, 404);
    assert_eq!(get(&app, "/c/").await, (200, "c/".into()));
    assert_eq!(get(&app, "/c").await.0, 404);
}

#[tokio::test]
async fn ignore_trailing_slash_makes_the_slash_insignificant() {
    let app = test_application(|app| {
        app.install(IgnoreTrailingSlash, ());
        app.routing(|r| {
            r.get("/", answer("root"));
            r.get("/a", answer("a"));
            r.get("/b/", answer("b/"));
            r.get("/t/{rest...}", answer("tail"));
        });
    })
    .await;
    assert_eq!(get(&app, "/").await, (200, "root".into()));
    assert_eq!(get(&app, "/a").await, (200, "a".into()));
    assert_eq!(get(&app, "/a/").await, (200, "a".into()));
    assert_eq!(get(&app, "/b").await, (200, "b/".into()));
    assert_eq!(get(&app, "/b/").await, (200, "b/".into()));
    assert_eq!(get(&app, "/t/x/").await, (200, "tail rest=x".into()));
}

#[tokio::test]
async fn a_malformed_escape_answers_400() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/{p}", answer("p"));
        });
    })
    .await;
    for path in ["/bad%zz", "/bad%", "/bad%4", "/%ff"] {
        let response = app.client().get(path).send().await;
        assert_eq!(response.status(), 400, "{path}");
    }
}

#[tokio::test]
async fn constant_beats_parameter_beats_wildcard_beats_tailcard_in_any_declaration_order() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/{...}", answer("tail"));
            r.get("/*", answer("wild"));
            r.get("/{p}", answer("param"));
            r.get("/a", answer("const"));
        });
    })
    .await;
    assert_eq!(get(&app, "/a").await.1, "const");
    assert_eq!(get(&app, "/b").await.1, "param p=b");
    assert_eq!(get(&app, "/a/b").await.1, "tail");
    assert_eq!(get(&app, "/").await.1, "tail");

    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/a", answer("const"));
            r.get("/{p}", answer("param"));
            r.get("/*", answer("wild"));
            r.get("/{...}", answer("tail"));
        });
    })
    .await;
    assert_eq!(get(&app, "/a").await.1, "const");
    assert_eq!(get(&app, "/b").await.1, "param p=b");

    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/{...}", answer("tail"));
            r.get("/*", answer("wild"));
        });
    })
    .await;
    assert_eq!(get(&app, "/b").await.1, "wild");
}

#[tokio::test]
async fn the_better_path_wins_by_comparing_qualities_from_the_root() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/{x}/b", answer("param-first"));
            r.get("/a/{y}", answer("const-first"));
        });
    })
    .await;
    assert_eq!(get(&app, "/a/b").await, (200, "const-first y=b".into()));
    assert_eq!(get(&app, "/z/b").await, (200, "param-first x=z".into()));
}

#[tokio::test]
async fn suffixed_parameter_beats_plain_parameter() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/f/{name}", answer("plain"));
            r.get("/f/{name}.txt", answer("txt"));
            r.get("/f/img-{name}", answer("img"));
        });
    })
    .await;
    assert_eq!(get(&app, "/f/a.txt").await.1, "txt name=a");
    assert_eq!(get(&app, "/f/img-a").await.1, "img name=a");
    assert_eq!(get(&app, "/f/a").await.1, "plain name=a");
}

#[tokio::test]
async fn a_route_without_the_optional_beats_a_missing_optional() {
    for reversed in [false, true] {
        let app = test_application(move |app| {
            app.routing(|r| {
                if reversed {
                    r.get("/items/{id?}", answer("optional"));
                    r.get("/items", answer("exact"));
                } else {
                    r.get("/items", answer("exact"));
                    r.get("/items/{id?}", answer("optional"));
                }
            });
        })
        .await;
        assert_eq!(get(&app, "/items").await.1, "exact", "reversed: {reversed}");
        assert_eq!(get(&app, "/items/3").await.1, "optional id=3");
    }
}

#[tokio::test]
async fn ties_go_to_the_earlier_declaration() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/{first}", answer("first"));
            r.get("/{second}", answer("second"));
        });
    })
    .await;
    assert_eq!(get(&app, "/x").await.1, "first first=x");
}

#[tokio::test]
async fn an_indexed_constant_keeps_declaration_order_against_parameter_siblings() {
    // Many constant siblings are indexed; a parameter sibling declared before them still ties first.
    let app = test_application(|app| {
        app.routing(|r| {
            r.route("/{p}", |r| {
                r.get("/leaf", answer("param"));
            });
            for i in 0..500 {
                r.get(&format!("/c{i}/other"), answer("constant"));
            }
            r.get("/c7/leaf", answer("c7"));
            r.get("/late/{x}", answer("late"));
        });
    })
    .await;
    assert_eq!(get(&app, "/c7/leaf").await.1, "c7", "constant beats parameter");
    assert_eq!(get(&app, "/c499/other").await.1, "constant");
    assert_eq!(get(&app, "/zzz/leaf").await.1, "param p=zzz");
    assert_eq!(get(&app, "/c8/leaf").await.1, "param p=c8");
    assert_eq!(get(&app, "/late/1").await.1, "late x=1");
}

#[tokio::test]
async fn nested_routes_and_several_routing_blocks_share_one_tree() {
    let app = test_application(|app| {
        app.routing(|r| {
            r.route("/api", |r| {
                r.route("/v1", |r| {
                    r.get("/users", answer("v1 users"));
                });
            });
        });
        app.routing(|r| {
            r.route("/api/v1", |r| {
                r.post("/users", answer("v1 create"));
                r.handle(answer("v1 any"));
            });
        });
    })
    .await;
    assert_eq!(get(&app, "/api/v1/users").await.1, "v1 users");
    assert_eq!(app.client().post("/api/v1/users").send().await.text().await, "v1 create");
    assert_eq!(app.client().delete("/api/v1").send().await.text().await, "v1 any");
    let root = rotor::routing::routing_root(app.application()).unwrap();
    assert_eq!(root.children().len(), 1, "both blocks added to the same /api node");
}

#[tokio::test]
async fn async_fn_handlers_work() {
    async fn hello(call: ApplicationCall) -> rotor::Result<()> {
        call.respond_text("hello").await
    }
    let app = test_application(|app| {
        app.routing(|r| {
            r.get("/hello", hello);
        });
    })
    .await;
    assert_eq!(get(&app, "/hello").await, (200, "hello".into()));
}

#[test]
fn invalid_patterns_panic_at_declaration_with_the_path() {
    for bad in ["/{}", "/{a}{b}", "/{a", "/{p...}/more", "/{p...}.txt", "/%zz"] {
        let result = std::panic::catch_unwind(|| {
            let mut app = Application::default();
            app.routing(|r| {
                r.get(bad, |call: ApplicationCall| async move { call.respond_text("x").await });
            });
        });
        let payload = result.expect_err(bad);
        let message = payload
            .downcast_ref::<String>()
            .cloned()
            .or_else(|| payload.downcast_ref::<&str>().map(|s| (*s).to_owned()))
            .unwrap_or_default();
        assert!(message.contains(bad), "{bad}: {message}");
    }
}
