//! Builds and serves: the services from configuration, the router from every
//! front door, start-up and shutdown. Nothing below imports this file.
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use anyhow::Context as _;
use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use sea_orm::DatabaseConnection;
use tower_http::request_id::{MakeRequestUuid, PropagateRequestIdLayer, SetRequestIdLayer};
use tower_http::sensitive_headers::SetSensitiveRequestHeadersLayer;
use tower_http::trace::TraceLayer;

use crate::auth::password::PasswordService;
use crate::auth::refresh::RefreshKey;
use crate::auth::tokens::{TokenService, load_or_create_secret};
use crate::config::Config;
use crate::db;
use crate::domain::Services;
use crate::domain::events::EventBus;
use crate::domain::projects::{self, CreatedProject};
use crate::http::cors::cors;
use crate::http::extract::client_ip;
use crate::http::form::{BodyLimits, limit_bodies};
use crate::http::headers::{Hardening, security_headers};
use crate::http::metrics::{Counting, count_requests};
use crate::http::proxies::TrustedProxies;
use crate::http::rejection::{Families, Family, shape_rejections};
use crate::http::shutdown::Shutdown;
use crate::http::state::AppState;

static X_REQUEST_ID: HeaderName = HeaderName::from_static("x-request-id");
static X_API_KEY: HeaderName = HeaderName::from_static("x-api-key");

/// Builds the domain services from configuration: connects and migrates the
/// database, loads (or creates) the signing key.
pub async fn services(config: &Config) -> anyhow::Result<Services> {
    let db = db::connect(config).await?;
    db::migrate(&db).await?;
    let services = services_with_db(config, db).await?;
    let url = config.database_url();
    if url.starts_with("postgres") {
        services
            .events
            .start_postgres_fanout(services.db.clone(), &url)
            .await?;
    }
    Ok(services)
}

/// Builds the services around an open, migrated database.
pub async fn services_with_db(config: &Config, db: DatabaseConnection) -> anyhow::Result<Services> {
    // Instances that share a Postgres database share its signing key, so they
    // accept each other's tokens; an embedded SQLite keeps it in the data dir.
    let secret = if !config.jwt_secret.is_empty() {
        config.jwt_secret.expose().as_bytes().to_vec()
    } else if db.get_database_backend() == sea_orm::DbBackend::Postgres {
        db::shared_secret(&db).await?
    } else {
        load_or_create_secret(&config.data_dir)?
    };
    let auth_cache = crate::domain::auth_cache::AuthCache::new(std::time::Duration::from_millis(
        config.auth_cache_ms,
    ));
    let metrics = crate::metrics::Metrics::new();
    let services = Services {
        writes: crate::store::writer::Writer::for_db(&db),
        db,
        passwords: PasswordService::new(
            config.hash_workers(),
            config.hash_queue_max(),
            metrics.clone(),
        )?,
        tokens: token_service(config, &secret)?,
        refresh: RefreshKey::derive(&secret),
        refresh_grace_secs: config.refresh_grace_secs,
        events: EventBus::new(1024, auth_cache.clone()),
        auth_cache,
        catalog: crate::domain::catalog::Catalog::new(std::time::Duration::from_millis(
            config.catalog_ttl_ms,
        )),
        limits: config.limits(),
        codes: crate::auth::codes::CodeKey::derive(&secret),
        seal: crate::auth::seal::SealKey::derive(&secret),
        mailer: crate::mail::Mailer::from_config(config.smtp_url.expose(), &config.mail_from)?,
        outbox: crate::domain::outbox::state::Outbox::new(&secret, config.outbox()),
        files: config.file_store()?,
        oauth: crate::auth::oauth::http::OAuthHttp::new(std::time::Duration::from_millis(
            config.oauth_timeout_ms,
        )),
        public_url: config.public_url.clone(),
        passkeys: config.relying_parties()?,
        metrics,
    };
    crate::domain::signing_keys::load(&services).await?;
    Ok(services)
}

/// The token service, with the keys of `AUTHGRAPH_SIGNING_KEY_FILE` when set.
fn token_service(config: &Config, secret: &[u8]) -> anyhow::Result<TokenService> {
    let mut tokens = TokenService::new(secret);
    let path = &config.signing_key_file;
    if !path.is_empty() {
        let keys = std::fs::read_to_string(path)
            .map_err(anyhow::Error::from)
            .and_then(|text| crate::auth::signing::KeyRing::from_pem(&text))
            .with_context(|| format!("AUTHGRAPH_SIGNING_KEY_FILE `{path}`"))?;
        tokens.configure(keys);
    }
    Ok(tokens)
}

/// Creates the `default` project on an empty database; returns its keys once.
pub async fn first_start(services: &Services) -> anyhow::Result<Option<CreatedProject>> {
    projects::ensure_default(&services.db)
        .await
        .map_err(|e| anyhow::anyhow!("creating the default project: {e:?}"))
}

/// The router with every front door and middleware.
pub fn router(services: Services, config: Arc<Config>) -> Router {
    router_with(services, config, Shutdown::default())
}

/// The router, its long-lived connections watching `shutdown`.
pub fn router_with(services: Services, config: Arc<Config>, shutdown: Shutdown) -> Router {
    let state = AppState {
        services,
        config,
        shutdown,
    };
    let config = state.config.clone();
    let sensitive = Arc::new([header::AUTHORIZATION, header::COOKIE, X_API_KEY.clone()]);
    // Validated when the configuration was loaded.
    let proxies = Arc::new(TrustedProxies::parse(&config.trusted_proxies).unwrap_or_default());
    let hardening = Hardening {
        https_public: config.public_url.starts_with("https://"),
        proxies: proxies.clone(),
    };
    let state_for_cors = state.clone();
    let counting = Counting {
        metrics: state.services.metrics.clone(),
        door_of: door,
    };
    let metrics_here = config.metrics && config.metrics_addr.is_empty();
    let doors = Router::new()
        .route("/healthz", get(healthz))
        .route("/readyz", get(readyz))
        .route("/openapi.json", get(crate::rest::openapi::openapi_json))
        .route("/docs", get(crate::http::assets::docs_page))
        .route("/account", get(crate::http::account::account_page))
        .route("/assets/{name}", get(crate::http::assets::asset))
        .with_state(state.clone())
        .merge(crate::graphql::http::router(state.clone()))
        .merge(crate::rest::router(state.clone()))
        .merge(
            metrics_here
                .then(|| crate::http::metrics::router(state))
                .unwrap_or_default(),
        )
        .layer(axum::middleware::from_fn_with_state(proxies, client_ip))
        .layer(axum::middleware::from_fn_with_state(
            BodyLimits::of_config(&config),
            limit_bodies,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Families {
                of_path: family,
                limits: BodyLimits::of_config(&config),
            },
            shape_rejections,
        ))
        .layer(axum::middleware::from_fn_with_state(state_for_cors, cors))
        .layer(axum::middleware::from_fn_with_state(
            hardening,
            security_headers,
        ));
    // Requests are counted only when someone can read the counts.
    let doors = match config.metrics {
        true => doors.layer(axum::middleware::from_fn_with_state(
            counting,
            count_requests,
        )),
        false => doors,
    };
    doors
        .layer(PropagateRequestIdLayer::new(X_REQUEST_ID.clone()))
        .layer(TraceLayer::new_for_http().make_span_with(|req: &Request| {
            let id = req.headers().get("x-request-id").and_then(|v| v.to_str().ok()).unwrap_or("");
            tracing::info_span!("request", method = %req.method(), path = %req.uri().path(), request_id = %id)
        }))
        .layer(SetRequestIdLayer::new(X_REQUEST_ID.clone(), MakeRequestUuid))
        .layer(SetSensitiveRequestHeadersLayer::from_shared(sensitive))
}

/// The metrics' own router, for `AUTHGRAPH_METRICS_ADDR`.
pub fn metrics_router(services: Services, config: Arc<Config>) -> Router {
    crate::http::metrics::router(AppState {
        services,
        config,
        shutdown: Shutdown::default(),
    })
}

/// The door a path (or route template) belongs to, as the metrics name it.
fn door(path: &str) -> &'static str {
    if let Some(Family::Graphql) = family(path) {
        return "graphql";
    }
    match crate::rest::door(path) {
        Some(door) => door.name(),
        None if matches!(path, "/healthz" | "/readyz") => "health",
        None if path == "/metrics" => "metrics",
        None => "pages",
    }
}

/// The family whose shape a path's errors take.
fn family(path: &str) -> Option<Family> {
    if path == "/graphql" || path.starts_with("/graphql/") {
        Some(Family::Graphql)
    } else {
        crate::rest::family(path)
    }
}

async fn healthz() -> &'static str {
    "ok"
}

async fn readyz(State(state): State<AppState>) -> Response {
    match state.services.db.ping().await {
        Ok(()) => (StatusCode::OK, "ready").into_response(),
        Err(err) => {
            tracing::warn!(error = %err, "database not reachable");
            (StatusCode::SERVICE_UNAVAILABLE, "database unreachable").into_response()
        }
    }
}

/// Binds and serves until SIGTERM or ctrl-c, then drains.
pub async fn serve(config: Config) -> anyhow::Result<()> {
    let config = Arc::new(config);
    let services = services(&config).await?;
    // The dummy hash for unknown emails is computed off the start-up path.
    let passwords = services.passwords.clone();
    tokio::spawn(async move {
        if let Err(e) = passwords.warm_up().await {
            tracing::warn!(error = ?e, "could not precompute the dummy password hash");
        }
    });
    // Mail waiting in the outbox (from before a restart too) goes out.
    let mail = crate::domain::outbox::worker::start(&services);
    // A key rotation by command reaches this server within seconds.
    crate::domain::signing_keys::spawn_reloader(services.clone(), Duration::from_secs(10));
    // Rate-limit buckets whose window ended and audit events past their
    // retention are dropped now and then, and the planner's statistics are
    // refreshed hourly as the users table grows.
    let (db, keep, audit_days) = (
        services.db.clone(),
        config.rate_limit_window_secs.max(config.lockout_secs),
        config.audit_retention_days,
    );
    tokio::spawn(async move {
        // Not at once: a write at start-up could race the first start's own
        // (SQLite refuses a transaction's upgrade to writing while another writes).
        let period = Duration::from_secs(600);
        let mut every = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
        for tick in 0u64.. {
            every.tick().await;
            if let Err(e) = crate::domain::limits::purge(&db, keep).await {
                tracing::warn!(error = ?e, "could not purge expired rate-limit buckets");
            }
            if let Err(e) = crate::domain::audit::query::purge(&db, audit_days).await {
                tracing::warn!(error = ?e, "could not purge old audit events");
            }
            if tick % 6 == 0 {
                if let Err(e) = crate::store::indexes::refresh_statistics(&db).await {
                    tracing::warn!(error = ?e, "could not refresh the planner's statistics");
                }
            }
        }
    });
    if let Some(created) = first_start(&services).await? {
        println!("Created the default project `default`. Its keys are shown only this once:");
        println!("  publishable key: {}", created.publishable_key);
        println!("  secret key:      {}", created.secret_key);
    }
    let addr = config.socket_addr()?;
    let listener = tokio::net::TcpListener::bind(addr)
        .await
        .with_context(|| format!("binding {addr} (set AUTHGRAPH_ADDR to a free address)"))?;
    tracing::info!(addr = %listener.local_addr()?, "authgraph listening");
    println!("authgraph listening on http://{}", listener.local_addr()?);
    let shutdown = Shutdown::default();
    let grace = Duration::from_secs(config.shutdown_grace_secs);
    serve_metrics(&services, &config, &shutdown).await?;
    let app = router_with(services.clone(), config, shutdown.clone());
    let signalled = shutdown.clone();
    let server = axum::serve(
        listener,
        app.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(async move {
        shutdown_signal().await;
        // The listener closes now; WebSockets and event streams end.
        signalled.begin();
    });
    // In-flight requests finish, within the grace period.
    let overdue = async {
        shutdown.begun().await;
        tokio::time::sleep(grace).await;
    };
    tokio::select! {
        served = server.into_future() => served?,
        _ = overdue => tracing::warn!(grace_secs = grace.as_secs(), "requests still in flight after the grace period; stopping"),
    }
    // WebSockets have been told to go away; give their close frames a moment.
    if tokio::time::timeout(Duration::from_secs(2), shutdown.drained())
        .await
        .is_err()
    {
        tracing::warn!(open = shutdown.open(), "connections still open at exit");
    }
    // Requests are done: the worker finishes its sends and frees its claims;
    // what is still pending stays in the outbox for the next start.
    mail.stop().await;
    services.db.close_by_ref().await.ok();
    tracing::info!("authgraph stopped");
    Ok(())
}

/// Serves `/metrics` on `AUTHGRAPH_METRICS_ADDR`, when set, until shutdown.
async fn serve_metrics(
    services: &Services,
    config: &Arc<Config>,
    shutdown: &Shutdown,
) -> anyhow::Result<()> {
    let Some(addr) = config.metrics_socket_addr()?.filter(|_| config.metrics) else {
        return Ok(());
    };
    let listener = tokio::net::TcpListener::bind(addr).await.with_context(|| {
        format!("binding {addr} (set AUTHGRAPH_METRICS_ADDR to a free address)")
    })?;
    println!("metrics on http://{}/metrics", listener.local_addr()?);
    let app = metrics_router(services.clone(), config.clone());
    let stop = shutdown.clone();
    tokio::spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { stop.begun().await })
            .await;
        if let Err(e) = served {
            tracing::warn!(error = %e, "the metrics listener stopped");
        }
    });
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        tokio::signal::ctrl_c().await.ok();
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutdown signal received, draining");
}
