//! Logs and metrics: the `tracing` subscriber (text or JSON, level from
//! `RUST_LOG`) and the metrics recorder (Prometheus for counters and gauges,
//! [`histograms`] for histograms), plus the gauges computed at scrape time
//! (cache size, token expiry, opening hours, budget).

pub mod histograms;

use std::sync::{Arc, OnceLock};

use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use tracing_subscriber::EnvFilter;
use tracing_subscriber::fmt::MakeWriter;

use crate::config::LogFormat;
use crate::state::AppState;
use crate::upstream::Endpoint;

/// Installs the global tracing subscriber writing to `writer`.
pub fn init_tracing<W>(format: LogFormat, writer: W)
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(writer);
    let _ = match format {
        LogFormat::Json => builder
            .json()
            .flatten_event(true)
            .with_current_span(false)
            .try_init(),
        LogFormat::Text => builder.try_init(),
    };
}

/// The process's metrics, rendered for `/metrics`.
#[derive(Clone)]
pub struct Metrics {
    prometheus: PrometheusHandle,
    histograms: Arc<histograms::Histograms>,
}

impl Metrics {
    /// Everything in the Prometheus text format.
    pub fn render(&self) -> String {
        let mut out = self.prometheus.render();
        if !out.is_empty() && !out.ends_with('\n') {
            out.push('\n');
        }
        self.histograms.render(&mut out);
        out
    }
}

/// The process's metrics recorder (installed on first use).
pub fn metrics_handle() -> Metrics {
    static HANDLE: OnceLock<Metrics> = OnceLock::new();
    HANDLE
        .get_or_init(|| {
            let prometheus = PrometheusBuilder::new().build_recorder();
            let metrics = Metrics {
                prometheus: prometheus.handle(),
                histograms: Arc::default(),
            };
            let _ = metrics::set_global_recorder(histograms::Recorder {
                inner: prometheus,
                histograms: metrics.histograms.clone(),
            });
            describe();
            metrics
        })
        .clone()
}

fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "sog_http_requests_total",
        "HTTP requests answered, by route, status and cache result"
    );
    describe_histogram!(
        "sog_http_request_duration_seconds",
        Unit::Seconds,
        "Time to answer an HTTP request"
    );
    describe_counter!(
        "sog_http_shed_total",
        "Requests refused because the concurrency limit was reached"
    );
    describe_gauge!("sog_cache_entries", "Entries in the response cache");
    describe_gauge!(
        "sog_cache_bytes",
        Unit::Bytes,
        "Bytes charged to the response cache"
    );
    describe_counter!(
        "sog_cache_lookups_total",
        "Cache lookups by endpoint and result (hit, miss, stale, ...)"
    );
    describe_counter!(
        "sog_cache_stale_served_total",
        "Stale answers served, by reason"
    );
    describe_counter!("sog_cache_evictions_total", "Entries evicted, by cause");
    describe_counter!(
        "sog_upstream_requests_total",
        "Upstream calls by endpoint and status class"
    );
    describe_histogram!(
        "sog_upstream_request_duration_seconds",
        Unit::Seconds,
        "Upstream call latency"
    );
    describe_counter!("sog_upstream_retries_total", "Upstream calls retried");
    describe_counter!(
        "sog_upstream_limiter_waits_total",
        "Upstream calls that waited for budget"
    );
    describe_counter!(
        "sog_upstream_limiter_rejections_total",
        "Upstream calls refused for lack of budget"
    );
    describe_gauge!(
        "sog_upstream_budget_wait_seconds",
        Unit::Seconds,
        "Time until the upstream budget allows a call"
    );
    describe_counter!("sog_token_refreshes_total", "Access tokens obtained");
    describe_counter!("sog_token_failures_total", "Failed token requests, by kind");
    describe_gauge!(
        "sog_token_expiry_seconds",
        Unit::Seconds,
        "Seconds until the current access token expires"
    );
    describe_gauge!(
        "sog_details_open",
        "1 when the upstream details endpoint is open now"
    );
    describe_gauge!(
        "sog_details_next_change_seconds",
        Unit::Seconds,
        "Seconds until the details endpoint opens or closes"
    );
}

/// Sets the gauges that are computed rather than counted.
pub fn update_gauges(state: &AppState) {
    let gateway = &state.gateway;
    let (entries, bytes) = gateway.cache().usage_estimate();
    metrics::gauge!("sog_cache_entries").set(entries as f64);
    metrics::gauge!("sog_cache_bytes").set(bytes as f64);
    let upstream = gateway.upstream();
    if let Some(s) = upstream.tokens().seconds_until_expiry() {
        metrics::gauge!("sog_token_expiry_seconds").set(s);
    }
    metrics::gauge!("sog_upstream_budget_wait_seconds")
        .set(upstream.limiter().time_until_budget().as_secs_f64());
    let now = gateway.clock().now();
    metrics::gauge!("sog_details_open").set(if gateway.is_open(Endpoint::Details, now) {
        1.0
    } else {
        0.0
    });
    if let Some(next) = gateway.calendar().next_change(now) {
        metrics::gauge!("sog_details_next_change_seconds").set((next - now).num_seconds() as f64);
    }
}
