//! Prometheus metrics of one server instance (`/metrics`, README "Metrics").
//!
//! Each [`Metrics`] has a registry of its own, so servers in one process (the
//! test suite runs hundreds) never count into each other. Counters and
//! histograms move where things happen; gauges of queues and pools that
//! others own are sampled when scraped ([`Samples`]). Labels are fixed sets
//! of words or route templates, never ids, emails or raw paths.
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::{Metric, Registry, Unit};

mod outcome;

use crate::error::AppResult;

pub use outcome::{AuthMethod, AuthOutcome};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HttpLabels {
    door: &'static str,
    route: String,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct AuthLabels {
    method: &'static str,
    outcome: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RuleLabels {
    rule: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct StateLabels {
    state: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct DoorLabels {
    door: &'static str,
}

type Histograms<L> = Family<L, Histogram, fn() -> Histogram>;

/// Latency buckets of requests, from 1 ms to 10 s (a log-in hashes for ~50 ms).
fn request_histogram() -> Histogram {
    Histogram::new([
        0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0,
    ])
}

/// Buckets of waits and hashing, from 100 µs to 10 s.
fn wait_histogram() -> Histogram {
    Histogram::new([
        0.0001, 0.0005, 0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0,
    ])
}

struct Inner {
    registry: Registry,
    http_requests: Family<HttpLabels, Counter>,
    http_duration: Histograms<HttpLabels>,
    auth_attempts: Family<AuthLabels, Counter>,
    rate_limited: Family<RuleLabels, Counter>,
    hash_queue_depth: Gauge,
    hash_refused: Counter,
    hash_wait: Histogram,
    hash_duration: Histogram,
    db_connections: Family<StateLabels, Gauge>,
    db_max_connections: Gauge,
    db_write_queue_depth: Gauge,
    realtime_connections: Family<DoorLabels, Gauge>,
    subscriptions: Family<DoorLabels, Gauge>,
    outbox_pending: Gauge,
    outbox_oldest_age: Gauge<f64, AtomicU64>,
}

/// The metrics of one server; cheap to clone.
#[derive(Clone)]
pub struct Metrics(Arc<Inner>);

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

/// Gauges read from their owners at scrape time.
#[derive(Clone, Copy, Debug, Default)]
pub struct Samples {
    pub db_in_use: u64,
    pub db_idle: u64,
    pub db_max: u64,
    pub db_write_queue: u64,
}

impl Metrics {
    /// A registry with every metric, all at zero.
    pub fn new() -> Self {
        let mut r = Registry::with_prefix("authgraph");
        let (none, secs) = (None, Some(Unit::Seconds));
        let inner = Inner {
            http_requests: add(
                &mut r,
                "http_requests",
                "HTTP requests by door, route template, method and status",
                none.clone(),
                Family::default(),
            ),
            http_duration: add(
                &mut r,
                "http_request_duration",
                "Time to the response's headers",
                secs.clone(),
                Family::new_with_constructor(request_histogram as fn() -> Histogram),
            ),
            auth_attempts: add(
                &mut r,
                "auth_attempts",
                "Authentication attempts by method and outcome",
                none.clone(),
                Family::default(),
            ),
            rate_limited: add(
                &mut r,
                "rate_limited",
                "Requests refused by a rate limit or lockout, by rule",
                none.clone(),
                Family::default(),
            ),
            hash_queue_depth: add(
                &mut r,
                "password_hash_queue_depth",
                "Password hashes waiting for a worker",
                none.clone(),
                Gauge::default(),
            ),
            hash_refused: add(
                &mut r,
                "password_hash_refused",
                "Password jobs refused unhashed because the queue was full (503 OVERLOADED)",
                none.clone(),
                Counter::default(),
            ),
            hash_wait: add(
                &mut r,
                "password_hash_queue_wait",
                "Time a password hash waited for a worker",
                secs.clone(),
                wait_histogram(),
            ),
            hash_duration: add(
                &mut r,
                "password_hash_duration",
                "Time a worker spent hashing or verifying a password",
                secs.clone(),
                wait_histogram(),
            ),
            db_connections: add(
                &mut r,
                "db_pool_connections",
                "Pooled database connections by state (in_use, idle)",
                none.clone(),
                Family::default(),
            ),
            db_max_connections: add(
                &mut r,
                "db_pool_max_connections",
                "Most pooled database connections",
                none.clone(),
                Gauge::default(),
            ),
            db_write_queue_depth: add(
                &mut r,
                "db_write_queue_depth",
                "Profile writes waiting for the SQLite writer's next batch (0 on PostgreSQL)",
                none.clone(),
                Gauge::default(),
            ),
            realtime_connections: add(
                &mut r,
                "realtime_connections",
                "Open GraphQL WebSockets and PocketBase realtime streams",
                none.clone(),
                Family::default(),
            ),
            subscriptions: add(
                &mut r,
                "realtime_subscriptions",
                "Active GraphQL subscriptions and PocketBase realtime topics",
                none.clone(),
                Family::default(),
            ),
            outbox_pending: add(
                &mut r,
                "mail_outbox_pending",
                "Mails waiting in the outbox",
                none,
                Gauge::default(),
            ),
            outbox_oldest_age: add(
                &mut r,
                "mail_outbox_oldest_age",
                "Age of the oldest mail waiting in the outbox",
                secs,
                Gauge::default(),
            ),
            registry: Registry::default(),
        };
        Metrics(Arc::new(Inner {
            registry: r,
            ..inner
        }))
    }

    /// One answered HTTP request. `route` is the matched route template.
    pub fn request(
        &self,
        door: &'static str,
        route: &str,
        method: &str,
        status: u16,
        took: Duration,
    ) {
        let labels = HttpLabels {
            door,
            route: route.to_owned(),
            method: method_label(method),
            status,
        };
        self.0.http_requests.get_or_create(&labels).inc();
        self.0
            .http_duration
            .get_or_create(&labels)
            .observe(took.as_secs_f64());
    }

    /// One authentication attempt and its outcome.
    pub fn auth(&self, method: AuthMethod, outcome: AuthOutcome) {
        let labels = AuthLabels {
            method: method.label(),
            outcome: outcome.label(),
        };
        self.0.auth_attempts.get_or_create(&labels).inc();
    }

    /// Counts the outcome of a finished attempt and hands it back.
    pub fn counted<T>(&self, method: AuthMethod, result: AppResult<T>) -> AppResult<T> {
        let outcome = match &result {
            Ok(_) => AuthOutcome::Success,
            Err(e) => AuthOutcome::of_error(e),
        };
        self.auth(method, outcome);
        result
    }

    /// A request refused by the rule `rule` (a bucket kind such as `login`, or `lockout`).
    pub fn rate_limited(&self, rule: &str) {
        let labels = RuleLabels {
            rule: rule.to_owned(),
        };
        self.0.rate_limited.get_or_create(&labels).inc();
    }

    /// A password job joined the hashing queue; the gauge drops when it starts.
    pub fn hash_queued(&self) {
        self.0.hash_queue_depth.inc();
    }

    /// A password job refused because the queue was full.
    pub fn hash_refused(&self) {
        self.0.hash_refused.inc();
    }

    /// A password job left the queue after waiting `waited`.
    pub fn hash_started(&self, waited: Duration) {
        self.0.hash_queue_depth.dec();
        self.0.hash_wait.observe(waited.as_secs_f64());
    }

    /// A worker finished a password job that took `took`.
    pub fn hash_done(&self, took: Duration) {
        self.0.hash_duration.observe(took.as_secs_f64());
    }

    /// A realtime connection of `door` (`graphql`, `pocketbase`), open until
    /// the returned guard is dropped.
    pub fn connection(&self, door: &'static str) -> Tracked {
        Tracked::on(
            self.0
                .realtime_connections
                .get_or_create_owned(&DoorLabels { door }),
        )
    }

    /// An active subscription of `door`, until the returned guard is dropped.
    pub fn subscription(&self, door: &'static str) -> Tracked {
        Tracked::on(
            self.0
                .subscriptions
                .get_or_create_owned(&DoorLabels { door }),
        )
    }

    /// `delta` more (or fewer) active subscriptions of `door`.
    pub fn subscriptions_changed(&self, door: &'static str, delta: i64) {
        self.0
            .subscriptions
            .get_or_create(&DoorLabels { door })
            .inc_by(delta);
    }

    /// The mail outbox's backlog: mails waiting and the age of the oldest.
    pub fn set_outbox_backlog(&self, pending: u64, oldest_age: Duration) {
        self.0.outbox_pending.set(gauge_value(pending));
        self.0.outbox_oldest_age.set(oldest_age.as_secs_f64());
    }

    /// The exposition: OpenMetrics text when `openmetrics`, else Prometheus'
    /// text format 0.0.4, with the sampled gauges set first.
    pub fn render(&self, samples: Samples, openmetrics: bool) -> String {
        let inner = &self.0;
        let state = |state| {
            inner
                .db_connections
                .get_or_create_owned(&StateLabels { state })
        };
        state("in_use").set(gauge_value(samples.db_in_use));
        state("idle").set(gauge_value(samples.db_idle));
        inner.db_max_connections.set(gauge_value(samples.db_max));
        inner
            .db_write_queue_depth
            .set(gauge_value(samples.db_write_queue));
        let mut out = String::new();
        // Writing into a String does not fail.
        let _ = if openmetrics {
            prometheus_client::encoding::text::encode(&mut out, &inner.registry)
        } else {
            prometheus_client::encoding::prometheus_text::encode(&mut out, &inner.registry)
        };
        out
    }
}

/// Registers `metric` under `authgraph_<name>` and hands it back.
fn add<M: Metric + Clone>(
    r: &mut Registry,
    name: &str,
    help: &str,
    unit: Option<Unit>,
    metric: M,
) -> M {
    match unit {
        Some(unit) => r.register_with_unit(name, help, unit, metric.clone()),
        None => r.register(name, help, metric.clone()),
    }
    metric
}

fn gauge_value(n: u64) -> i64 {
    i64::try_from(n).unwrap_or(i64::MAX)
}

/// The method as a label: one of the standard methods, else `other` (a
/// client chooses the method, so it must not grow the label set).
fn method_label(method: &str) -> &'static str {
    const KNOWN: [&str; 9] = [
        "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "CONNECT", "TRACE",
    ];
    KNOWN
        .iter()
        .find(|m| **m == method)
        .copied()
        .unwrap_or("other")
}

/// A gauge raised while this lives.
pub struct Tracked(Gauge);

impl Tracked {
    fn on(gauge: Gauge) -> Tracked {
        gauge.inc();
        Tracked(gauge)
    }
}

impl Drop for Tracked {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counters_move_and_guards_give_back_what_they_took() {
        let m = Metrics::new();
        m.auth(AuthMethod::Password, AuthOutcome::Failure);
        m.request("graphql", "/graphql", "BREW", 200, Duration::from_millis(3));
        let open = m.connection("graphql");
        let text = m.render(Samples::default(), true);
        assert!(
            text.contains(
                r#"authgraph_auth_attempts_total{method="password",outcome="failure"} 1"#
            ),
            "{text}"
        );
        assert!(
            text.contains(r#"authgraph_realtime_connections{door="graphql"} 1"#),
            "{text}"
        );
        assert!(text.contains(r#"method="other""#), "{text}");
        assert!(text.ends_with("# EOF\n"), "{text}");
        drop(open);
        let text = m.render(Samples::default(), false);
        assert!(
            text.contains(r#"authgraph_realtime_connections{door="graphql"} 0"#),
            "{text}"
        );
        // Another instance counts on its own.
        assert!(
            !Metrics::new()
                .render(Samples::default(), true)
                .contains("outcome=\"failure\"")
        );
    }
}
