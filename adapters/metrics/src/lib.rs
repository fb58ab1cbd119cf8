//! Prometheus metrics of sprechstunde at `/metrics`, in the OpenMetrics text format that
//! Prometheus scrapes (through the Prometheus project's own `prometheus-client`).
//!
//! Two kinds of figures, none of them naming a person, a reference or a text (labels are a
//! channel, a queue, a department's slug, a session state or a delivery outcome):
//!
//! - **Counters and histograms** ([`Metrics`]) are fed where the work happens: the office
//!   tells its [`Telemetry`] observer about intake, acknowledgements, deliveries and
//!   flushes; the console about refused logins.
//! - **Gauges** ([`gauges::Gauges`]) are read from the office's state when Prometheus
//!   scrapes: open and overdue questions, the outbox, sessions.
//!
//! [`router`] serves them behind a bearer token ([`MetricsToken`]); without a token,
//! `/metrics` answers 404.

pub mod gauges;
mod http;

use std::sync::Arc;
use std::time::Duration;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;
use sprechstunde_core::ChannelKind;
use sprechstunde_runtime::{DeliveryOutcome, Office, Telemetry};

pub use http::{CONTENT_TYPE, MetricsToken, router};

/// The label of figures per channel.
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
struct ByChannel {
    /// `web`, `telegram` or `matrix`.
    channel: &'static str,
}

impl ByChannel {
    fn of(channel: ChannelKind) -> ByChannel {
        ByChannel {
            channel: channel.as_str(),
        }
    }
}

/// Buckets of the latency histograms, in seconds: 0.5 ms doubling up to about 16 s (a
/// flush takes milliseconds; a stuck disk or database shows in the top buckets).
fn latency_buckets() -> Histogram {
    Histogram::new(exponential_buckets(0.0005, 2.0, 16))
}

/// The counters and histograms, and the registry that encodes them. Clones share them.
#[derive(Clone)]
pub struct Metrics {
    inner: Arc<Inner>,
}

struct Inner {
    registry: Registry,
    intake: Family<ByChannel, Counter>,
    acknowledgement: Family<ByChannel, Histogram, fn() -> Histogram>,
    deliveries: Family<ByChannel, Counter>,
    retries: Family<ByChannel, Counter>,
    rate_limited: Family<ByChannel, Counter>,
    given_up: Family<ByChannel, Counter>,
    flush: Histogram,
    login_failures: Counter,
    /// Gauges the channels report at scrape time ([`Metrics::add_gauge`]).
    extra: std::sync::Mutex<Vec<Extra>>,
}

/// Reads one gauge's value at scrape time; `None` leaves it out of the scrape.
pub type GaugeFn = Arc<dyn Fn() -> Option<i64> + Send + Sync>;

struct Extra {
    name: &'static str,
    help: &'static str,
    read: GaugeFn,
}

impl std::fmt::Debug for Metrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Metrics")
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    /// Creates the counters and histograms, all at zero.
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("sprechstunde");
        let intake = Family::<ByChannel, Counter>::default();
        registry.register(
            "questions_taken_in",
            "Citizen messages that became a new question, per channel",
            intake.clone(),
        );
        let acknowledgement =
            Family::<ByChannel, Histogram, fn() -> Histogram>::new_with_constructor(
                latency_buckets,
            );
        registry.register_with_unit(
            "acknowledgement",
            "Time from a citizen message reaching the office until it is stored durably \
             and may be acknowledged, per channel",
            prometheus_client::registry::Unit::Seconds,
            acknowledgement.clone(),
        );
        let deliveries = Family::<ByChannel, Counter>::default();
        registry.register(
            "deliveries",
            "Messages handed to the citizen's channel, per channel",
            deliveries.clone(),
        );
        let retries = Family::<ByChannel, Counter>::default();
        registry.register(
            "delivery_retries",
            "Delivery attempts that failed and are retried later (temporary failures and \
             rate limits), per channel",
            retries.clone(),
        );
        let rate_limited = Family::<ByChannel, Counter>::default();
        registry.register(
            "delivery_rate_limited",
            "Delivery attempts the channel refused with 429 (retry after), per channel",
            rate_limited.clone(),
        );
        let given_up = Family::<ByChannel, Counter>::default();
        registry.register(
            "delivery_failures",
            "Messages given up because the citizen cannot be reached on the channel, per \
             channel",
            given_up.clone(),
        );
        let flush = latency_buckets();
        registry.register_with_unit(
            "store_flush",
            "Time a commit waits until the store has it on disk (sled flush or PostgreSQL \
             commit, including the wait for the group commit)",
            prometheus_client::registry::Unit::Seconds,
            flush.clone(),
        );
        let login_failures = Counter::default();
        registry.register(
            "login_failures",
            "Refused console logins (wrong login or password, disabled account)",
            login_failures.clone(),
        );
        // Every channel from the start, so rates work before the first event.
        for channel in ChannelKind::ALL {
            let label = ByChannel::of(channel);
            for family in [&intake, &deliveries, &retries, &rate_limited, &given_up] {
                let _ = family.get_or_create(&label);
            }
        }
        Metrics {
            inner: Arc::new(Inner {
                registry,
                intake,
                acknowledgement,
                deliveries,
                retries,
                rate_limited,
                given_up,
                flush,
                login_failures,
                extra: std::sync::Mutex::default(),
            }),
        }
    }

    /// Adds a gauge read at every scrape (`sprechstunde_<name>`), e.g. the Threema Gateway's
    /// remaining credits. The value must not identify anybody.
    pub fn add_gauge(&self, name: &'static str, help: &'static str, read: GaugeFn) {
        self.inner
            .extra
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(Extra { name, help, read });
    }

    fn extra_registry(&self) -> Registry {
        let mut registry = Registry::with_prefix("sprechstunde");
        let extra = self.inner.extra.lock().unwrap_or_else(|e| e.into_inner());
        for e in extra.iter() {
            if let Some(value) = (e.read)() {
                let gauge = prometheus_client::metrics::gauge::Gauge::<i64>::default();
                gauge.set(value);
                registry.register(e.name, e.help, gauge);
            }
        }
        registry
    }

    /// Registers these metrics as the office's telemetry observer.
    pub fn observe(&self, office: &Office) {
        office.register_telemetry(Arc::new(self.clone()));
    }

    /// The whole exposition: the counters and histograms, then the gauges read from
    /// `office` now, then the end marker.
    pub async fn render(&self, office: &Office) -> String {
        let gauges = gauges::Gauges::read(office).await;
        self.encode(&gauges)
    }

    /// The exposition with the given gauges.
    pub fn encode(&self, gauges: &gauges::Gauges) -> String {
        use prometheus_client::encoding::text::{encode_eof, encode_registry};
        let mut out = String::new();
        // Writing to a String cannot fail.
        let _ = encode_registry(&mut out, &self.inner.registry);
        let _ = encode_registry(&mut out, &gauges.registry());
        let _ = encode_registry(&mut out, &self.extra_registry());
        let _ = encode_eof(&mut out);
        out
    }
}

/// Seconds as the histograms take them.
fn seconds(elapsed: Duration) -> f64 {
    elapsed.as_secs_f64()
}

impl Telemetry for Metrics {
    fn question_taken_in(&self, channel: ChannelKind) {
        self.inner
            .intake
            .get_or_create(&ByChannel::of(channel))
            .inc();
    }

    fn acknowledged(&self, channel: ChannelKind, elapsed: Duration) {
        self.inner
            .acknowledgement
            .get_or_create(&ByChannel::of(channel))
            .observe(seconds(elapsed));
    }

    fn delivery(&self, channel: ChannelKind, outcome: DeliveryOutcome) {
        let label = ByChannel::of(channel);
        let inner = &self.inner;
        match outcome {
            DeliveryOutcome::Delivered => {
                inner.deliveries.get_or_create(&label).inc();
            }
            DeliveryOutcome::RateLimited => {
                inner.rate_limited.get_or_create(&label).inc();
                inner.retries.get_or_create(&label).inc();
            }
            DeliveryOutcome::Retried => {
                inner.retries.get_or_create(&label).inc();
            }
            // Waits for the citizen to come back: neither a failure nor a retry.
            DeliveryOutcome::Deferred => {}
            DeliveryOutcome::Failed => {
                inner.given_up.get_or_create(&label).inc();
            }
        }
    }

    fn store_flushed(&self, elapsed: Duration) {
        self.inner.flush.observe(seconds(elapsed));
    }

    fn login_failed(&self) {
        self.inner.login_failures.inc();
    }
}
