//! Static content: files, directories, types, validators, ranges, precompressed siblings, the single-page
//! fallback, and every way of trying to get out of the served directory.

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use rotor::plugins::conditional_headers::ConditionalHeaders;
use rotor::plugins::partial_content::{PartialContent, PartialContentConfig};
use rotor::plugins::static_content::{CompressedFileType, StaticFiles};
use rotor::prelude::*;
use rotor_test::{TestApplication, test_application};

const SECRET: &str = "TOP SECRET";

/// A directory removed when dropped: `base/secret.txt` outside, `base/public` served.
struct Site {
    base: PathBuf,
}

impl Site {
    fn new() -> Site {
        static NEXT: AtomicUsize = AtomicUsize::new(0);
        let name = format!("rotor-static-{}-{}", std::process::id(), NEXT.fetch_add(1, Ordering::SeqCst));
        let base = std::env::temp_dir().join(name);
        let public = base.join("public");
        std::fs::create_dir_all(public.join("docs")).unwrap();
        std::fs::create_dir_all(public.join("app")).unwrap();
        std::fs::write(base.join("secret.txt"), SECRET).unwrap();
        std::fs::write(public.join("hello.txt"), "hello").unwrap();
        std::fs::write(public.join("index.html"), "<h1>home</h1>").unwrap();
        std::fs::write(public.join("docs/index.html"), "<h1>docs</h1>").unwrap();
        std::fs::write(public.join("style.css"), "body{}").unwrap();
        std::fs::write(public.join("app.js"), "let a = 1;").unwrap();
        std::fs::write(public.join("app.js.gz"), "GZIP BYTES").unwrap();
        std::fs::write(public.join("app.js.br"), "BROTLI BYTES").unwrap();
        std::fs::write(public.join("image.png"), [0x89, b'P', b'N', b'G']).unwrap();
        std::fs::write(public.join("data.unknownext"), "?").unwrap();
        std::fs::write(public.join("empty.txt"), "").unwrap();
        std::fs::write(public.join("a b.txt"), "spaced").unwrap();
        std::fs::write(public.join("app/index.html"), "<div id=app></div>").unwrap();
        let big: Vec<u8> = (0..300_000u32).map(|i| (i % 251) as u8).collect();
        std::fs::write(public.join("big.bin"), big).unwrap();
        #[cfg(unix)]
        {
            std::os::unix::fs::symlink(base.join("secret.txt"), public.join("leak.txt")).unwrap();
            std::os::unix::fs::symlink(&base, public.join("up")).unwrap();
            std::os::unix::fs::symlink(public.join("hello.txt"), public.join("alias.txt")).unwrap();
        }
        Site { base }
    }

    fn public(&self) -> PathBuf {
        self.base.join("public")
    }
}

impl Drop for Site {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.base);
    }
}

fn big() -> Vec<u8> {
    (0..300_000u32).map(|i| (i % 251) as u8).collect()
}

async fn app(public: &Path) -> TestApplication {
    let public = public.to_path_buf();
    test_application(move |app: &mut Application| {
        app.install(ConditionalHeaders, Default::default());
        app.install(PartialContent, PartialContentConfig::default());
        app.routing(|r| {
            r.static_files("/static", &public);
            r.static_files_with("/pre", &public, |config| {
                config.precompressed([CompressedFileType::Brotli, CompressedFileType::Gzip]);
            });
            r.static_files_with("/spa", public.join("app"), |config| {
                config.spa("index.html");
            });
            r.get("/echo/{rest...}", |call: ApplicationCall| async move {
                let parameters = call.parameters();
                call.respond_text(parameters.get_all("rest").collect::<Vec<_>>().join("|")).await
            });
        });
    })
    .await
}

#[tokio::test]
async fn files_with_types_and_validators() {
    let site = Site::new();
    let app = app(&site.public()).await;
    let cases = [
        ("/static/hello.txt", "text/plain; charset=utf-8", "hello"),
        ("/static/style.css", "text/css; charset=utf-8", "body{}"),
        ("/static/app.js", "text/javascript; charset=utf-8", "let a = 1;"),
        ("/static/index.html", "text/html; charset=utf-8", "<h1>home</h1>"),
        ("/static/data.unknownext", "application/octet-stream", "?"),
        ("/static/a%20b.txt", "text/plain; charset=utf-8", "spaced"),
    ];
    for (path, content_type, body) in cases {
        let res = app.client().get(path).send().await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.header("content-type"), Some(content_type), "{path}");
        assert_eq!(res.header("content-length"), Some(body.len().to_string().as_str()));
        assert_eq!(res.header("accept-ranges"), Some("bytes"));
        let etag = res.header("etag").unwrap();
        assert!(etag.starts_with('"') && etag.ends_with('"'), "{etag}");
        assert!(httpdate::parse_http_date(res.header("last-modified").unwrap()).is_ok());
        assert_eq!(res.text().await, body, "{path}");
    }
    let png = app.client().get("/static/image.png").send().await;
    assert_eq!(png.header("content-type"), Some("image/png"));
}

#[tokio::test]
async fn directories_answer_their_index_and_missing_files_404() {
    let site = Site::new();
    let app = app(&site.public()).await;
    for path in ["/static", "/static/", "/static/docs", "/static/docs/"] {
        let res = app.client().get(path).send().await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.header("content-type"), Some("text/html; charset=utf-8"));
    }
    assert_eq!(app.client().get("/static/docs/").send().await.text().await, "<h1>docs</h1>");
    assert_eq!(app.client().get("/static/nope.txt").send().await.status(), 404);
    assert_eq!(app.client().get("/static/hello.txt/more").send().await.status(), 404);
    let post = app.client().post("/static/hello.txt").send().await;
    assert_eq!(post.status(), 405);
    // A query parameter named like the route's tailcard changes nothing.
    let res = app.client().get("/static/hello.txt?static-path=..&static-path=secret.txt").send().await;
    assert_eq!(res.text().await, "hello");
}

#[tokio::test]
async fn the_tailcard_keeps_encoded_slashes_inside_their_segment() {
    let site = Site::new();
    let app = app(&site.public()).await;
    let seen = app.client().get("/echo/a%2Fb/c%5Cd/%2e%2e").send().await.text().await;
    assert_eq!(seen, "a/b|c\\d|..");
}

#[tokio::test]
async fn no_path_escapes_the_root() {
    let site = Site::new();
    let app = app(&site.public()).await;
    let attacks = [
        "/static/../secret.txt",
        "/static/%2e%2e/secret.txt",
        "/static/%2E%2E/secret.txt",
        "/static/.%2e/secret.txt",
        "/static/..%2fsecret.txt",
        "/static/..%2Fsecret.txt",
        "/static/%2e%2e%2fsecret.txt",
        "/static/docs/..%2f..%2fsecret.txt",
        "/static/..%5csecret.txt",
        "/static/%5c..%5csecret.txt",
        "/static/%00",
        "/static/hello.txt%00.png",
        "/static/C:%5cWindows%5cwin.ini",
        "/static/C:",
        "/static/%2fetc%2fpasswd",
        "/static//etc/passwd",
        "/static/./hello.txt",
        "/static/leak.txt",
        "/static/up/secret.txt",
        "/static/up",
        "/spa/..%2fsecret.txt",
        "/spa/../../secret.txt",
    ];
    for attack in attacks {
        let res = app.client().get(attack).send().await;
        let status = res.status().as_u16();
        assert!(status == 400 || status == 404, "{attack}: {status}");
        assert!(!res.text().await.contains(SECRET), "{attack}");
    }
    // A symlink that stays inside the root is followed.
    #[cfg(unix)]
    assert_eq!(app.client().get("/static/alias.txt").send().await.text().await, "hello");
}

#[tokio::test]
async fn conditional_requests_answer_304_and_412() {
    let site = Site::new();
    let app = app(&site.public()).await;
    let first = app.client().get("/static/hello.txt").send().await;
    let etag = first.header("etag").unwrap().to_owned();
    let modified = first.header("last-modified").unwrap().to_owned();
    let res = app.client().get("/static/hello.txt").header("if-none-match", etag.as_str()).send().await;
    assert_eq!(res.status(), 304);
    assert_eq!(res.header("etag"), Some(etag.as_str()));
    assert!(res.bytes().await.is_empty());
    let res = app.client().get("/static/hello.txt").header("if-modified-since", modified.as_str()).send().await;
    assert_eq!(res.status(), 304);
    let res = app.client().get("/static/hello.txt").header("if-match", "\"stale\"").send().await;
    assert_eq!(res.status(), 412);
    let res = app.client().head("/static/hello.txt").header("if-none-match", etag.as_str()).send().await;
    assert_eq!(res.status(), 304);
}

#[tokio::test]
async fn ranges_are_read_from_the_file() {
    let site = Site::new();
    let app = app(&site.public()).await;
    let big = big();
    let cases: [(&str, std::ops::Range<usize>); 4] = [
        ("bytes=0-9", 0..10),
        ("bytes=-100", 299_900..300_000),
        ("bytes=299999-", 299_999..300_000),
        ("bytes=65530-131080", 65_530..131_081),
    ];
    for (range, expected) in cases {
        let res = app.client().get("/static/big.bin").header("range", range).send().await;
        assert_eq!(res.status(), 206, "{range}");
        let content_range = format!("bytes {}-{}/300000", expected.start, expected.end - 1);
        assert_eq!(res.header("content-range"), Some(content_range.as_str()));
        assert_eq!(res.header("content-type"), Some("application/octet-stream"));
        assert_eq!(&res.bytes().await[..], &big[expected]);
    }
    let res = app.client().get("/static/big.bin").header("range", "bytes=0-1,200000-200001").send().await;
    assert_eq!(res.status(), 206);
    assert!(res.header("content-type").unwrap().starts_with("multipart/byteranges; boundary="));
    let body = res.bytes().await;
    let text = String::from_utf8_lossy(&body);
    assert!(text.contains("Content-Range: bytes 0-1/300000"), "{text}");
    assert!(text.contains("Content-Range: bytes 200000-200001/300000"), "{text}");
    let res = app.client().get("/static/big.bin").header("range", "bytes=300000-").send().await;
    assert_eq!(res.status(), 416);
    assert_eq!(res.header("content-range"), Some("bytes */300000"));
    // The whole file streams in order.
    assert_eq!(&app.client().get("/static/big.bin").send().await.bytes().await[..], &big[..]);
}

#[tokio::test]
async fn conditional_requests_combine_with_ranges() {
    let site = Site::new();
    let app = app(&site.public()).await;
    let etag = app.client().get("/static/hello.txt").send().await.header("etag").unwrap().to_owned();
    let ranged = |if_range: String| {
        app.client().get("/static/hello.txt").header("range", "bytes=1-2").header("if-range", if_range).send()
    };
    let res = ranged(etag.clone()).await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.text().await, "el");
    let res = ranged("\"changed\"".to_owned()).await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.text().await, "hello");
    let res = app
        .client()
        .get("/static/hello.txt")
        .header("range", "bytes=1-2")
        .header("if-none-match", etag.as_str())
        .send()
        .await;
    assert_eq!(res.status(), 304);
}

#[tokio::test]
async fn empty_files_and_head() {
    let site = Site::new();
    let app = app(&site.public()).await;
    let res = app.client().get("/static/empty.txt").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-length"), Some("0"));
    assert!(res.bytes().await.is_empty());
    let res = app.client().get("/static/empty.txt").header("range", "bytes=0-").send().await;
    assert_eq!(res.status(), 200);
    let res = app.client().head("/static/big.bin").send().await;
    assert_eq!(res.status(), 200);
    assert_eq!(res.header("content-length"), Some("300000"));
    assert!(res.header("etag").is_some());
    assert!(res.header("last-modified").is_some());
}

#[tokio::test]
async fn precompressed_siblings_follow_accept_encoding() {
    let site = Site::new();
    let app = app(&site.public()).await;
    let cases = [
        ("br, gzip", Some("br"), "BROTLI BYTES"),
        ("gzip, br;q=0", Some("gzip"), "GZIP BYTES"),
        ("x-gzip", Some("gzip"), "GZIP BYTES"),
        ("*", Some("br"), "BROTLI BYTES"),
        ("identity", None, "let a = 1;"),
        ("", None, "let a = 1;"),
    ];
    let mut etags = Vec::new();
    for (accept, coding, body) in cases {
        let res = app.client().get("/pre/app.js").header("accept-encoding", accept).send().await;
        assert_eq!(res.status(), 200, "{accept}");
        assert_eq!(res.header("content-encoding"), coding, "{accept}");
        assert_eq!(res.header("content-type"), Some("text/javascript; charset=utf-8"));
        assert_eq!(res.header("vary"), Some("accept-encoding"));
        etags.push((coding, res.header("etag").unwrap().to_owned()));
        assert_eq!(res.text().await, body, "{accept}");
    }
    assert_ne!(etags[0].1, etags[1].1);
    assert_ne!(etags[1].1, etags[4].1);
    // Files without siblings, and routes without precompression, answer identity with no Vary on the latter.
    let res = app.client().get("/pre/hello.txt").header("accept-encoding", "gzip").send().await;
    assert_eq!((res.header("content-encoding"), res.header("vary")), (None, Some("accept-encoding")));
    let res = app.client().get("/static/app.js").header("accept-encoding", "gzip").send().await;
    assert_eq!((res.header("content-encoding"), res.header("vary")), (None, None));
    // Ranges apply to the encoded bytes.
    let res =
        app.client().get("/pre/app.js").header("accept-encoding", "gzip").header("range", "bytes=0-3").send().await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.text().await, "GZIP");
}

#[tokio::test]
async fn single_page_applications_fall_back_to_their_index() {
    let site = Site::new();
    let app = app(&site.public()).await;
    for path in ["/spa", "/spa/", "/spa/users/42", "/spa/missing.js"] {
        let res = app.client().get(path).send().await;
        assert_eq!(res.status(), 200, "{path}");
        assert_eq!(res.text().await, "<div id=app></div>", "{path}");
    }
    assert_eq!(app.client().get("/spa/%2e%2e").send().await.status(), 400);
}

#[tokio::test]
async fn a_directory_can_be_served_at_the_root() {
    let site = Site::new();
    let public = site.public();
    let app = test_application(move |app: &mut Application| {
        app.routing(|r| {
            r.get("/api/status", |call: ApplicationCall| async move { call.respond_text("up").await });
            r.static_files("/", &public);
        });
    })
    .await;
    assert_eq!(app.client().get("/").send().await.text().await, "<h1>home</h1>");
    assert_eq!(app.client().get("/hello.txt").send().await.text().await, "hello");
    assert_eq!(app.client().get("/docs/").send().await.text().await, "<h1>docs</h1>");
    assert_eq!(app.client().get("/api/status").send().await.text().await, "up");
    assert_eq!(app.client().get("/../secret.txt").send().await.status(), 400);
    // Without PartialContent, ranges are not served (see below for PartialContent on the route itself).
    let res = app.client().get("/hello.txt").header("range", "bytes=0-1").send().await;
    assert_eq!((res.status().as_u16(), res.header("accept-ranges")), (200, None));
}

#[tokio::test]
async fn partial_content_installed_on_the_static_route() {
    let site = Site::new();
    let public = site.public();
    let app = test_application(move |app: &mut Application| {
        app.routing(|r| {
            r.route("/files", |r| {
                r.install(PartialContent, PartialContentConfig::default());
                r.static_files("/", &public);
            });
            r.get("/other", |call: ApplicationCall| async move { call.respond_text("other").await });
        });
    })
    .await;
    let res = app.client().get("/files/hello.txt").header("range", "bytes=-2").send().await;
    assert_eq!(res.status(), 206);
    assert_eq!(res.text().await, "lo");
    let res = app.client().get("/other").header("range", "bytes=-2").send().await;
    assert_eq!(res.status(), 200);
}

#[test]
fn a_missing_directory_or_spa_file_is_an_error_at_install() {
    let mut route = rotor::routing::Route::root(Default::default());
    let missing = route.try_static_files("/x", "/definitely/not/here", Default::default());
    assert!(missing.unwrap_err().to_string().contains("/definitely/not/here"));
    let site = Site::new();
    let mut config = rotor::plugins::static_content::StaticContentConfig::default();
    config.spa("../secret.txt");
    assert!(route.try_static_files("/y", site.public(), config).unwrap_err().to_string().contains("spa"));
}
