//! Rotor's plugin showcase: a small JSON API (`/api/items`) and a static site (`public/`), with the built-in
//! plugins working together: DefaultHeaders, CallId, CallLogging, StatusPages, ContentNegotiation,
//! Compression, ConditionalHeaders, CachingHeaders, PartialContent, AutoHeadResponse and static files.

use std::path::PathBuf;
use std::sync::{Arc, Mutex};

use rotor::plugins::auto_head_response::AutoHeadResponse;
use rotor::plugins::caching_headers::{CacheControl, CachingHeaders, CachingOptions};
use rotor::plugins::call_id::CallId;
use rotor::plugins::call_logging::CallLogging;
use rotor::plugins::compression::Compression;
use rotor::plugins::conditional_headers::ConditionalHeaders;
use rotor::plugins::content_negotiation::{ContentNegotiation, NegotiateExt};
use rotor::plugins::default_headers::DefaultHeaders;
use rotor::plugins::partial_content::PartialContent;
use rotor::plugins::static_content::StaticFiles;
use rotor::plugins::status_pages::StatusPages;
use rotor::prelude::*;
use serde::{Deserialize, Serialize};

/// An item for sale.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
pub struct Item {
    /// Its id, given by the shop.
    pub id: u64,
    /// Its name.
    pub name: String,
    /// Its price in cents.
    pub price_cents: u64,
}

/// What a client sends to add an item.
#[derive(Debug, Deserialize)]
pub struct NewItem {
    /// The name; not empty.
    pub name: String,
    /// The price in cents.
    pub price_cents: u64,
}

/// The items, in memory.
#[derive(Debug, Default)]
struct Store {
    items: Vec<Item>,
}

/// The directory of the static site: `public/` beside this crate.
pub fn public_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("public")
}

/// The shop module.
pub fn module(app: &mut Application) {
    app.install(CallId, Default::default());
    app.install(CallLogging, Default::default());
    app.install(DefaultHeaders, Default::default());
    app.install_with(StatusPages, |config| {
        config.status(StatusCode::NOT_FOUND, |call, _status| async move {
            call.respond_with_status(StatusCode::NOT_FOUND, "There is nothing here. Try /api/items or /.").await
        });
    });
    app.install_with(ContentNegotiation, |config| {
        config.receive_type::<NewItem>();
    });
    app.install(Compression, Default::default());
    app.install(ConditionalHeaders, Default::default());
    app.install_with(CachingHeaders, |config| {
        config.content_type("text/css", CachingOptions::new(CacheControl::max_age(3600)));
        config.content_type("text/javascript", CachingOptions::new(CacheControl::max_age(3600)));
    });
    app.install(PartialContent, Default::default());
    app.install(AutoHeadResponse, ());

    let store = Arc::new(Mutex::new(Store {
        items: vec![
            Item { id: 1, name: "Rotor blade".into(), price_cents: 12_900 },
            Item { id: 2, name: "Bearing".into(), price_cents: 2_450 },
        ],
    }));
    app.routing(move |r| {
        r.route("/api/items", |r| {
            let list = Arc::clone(&store);
            r.get("", move |call: ApplicationCall| {
                let items = list.lock().map(|store| store.items.clone()).unwrap_or_default();
                async move { call.respond_negotiated(items).await }
            });
            let show = Arc::clone(&store);
            r.get("/{id}", move |call: ApplicationCall| {
                let store = Arc::clone(&show);
                async move {
                    let id: u64 = call.parameters().require("id")?;
                    let item = store.lock().ok().and_then(|store| store.items.iter().find(|i| i.id == id).cloned());
                    match item {
                        Some(item) => call.respond_negotiated(item).await,
                        None => Err(Error::not_found(format!("no item {id}"))),
                    }
                }
            });
            let add = Arc::clone(&store);
            r.post("", move |call: ApplicationCall| {
                let store = Arc::clone(&add);
                async move {
                    let new: NewItem = call.receive().await?;
                    if new.name.trim().is_empty() {
                        return Err(Error::bad_request("`name` must not be empty"));
                    }
                    let item = {
                        let mut store = store.lock().map_err(|_| Error::internal("the store is unusable"))?;
                        let id = store.items.iter().map(|item| item.id).max().unwrap_or(0) + 1;
                        let item = Item { id, name: new.name, price_cents: new.price_cents };
                        store.items.push(item.clone());
                        item
                    };
                    call.response().set_status(StatusCode::CREATED);
                    call.respond_negotiated(item).await
                }
            });
        });
        r.static_files_with("/", public_dir(), |config| {
            config.index(Some("index.html"));
        });
    });
}
