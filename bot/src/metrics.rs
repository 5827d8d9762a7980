//! `/metrics`: Prometheus text for deliveries, the queue, jobs and GitHub calls.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::Histogram;
use prometheus_client::registry::Registry;
use std::sync::atomic::AtomicU64;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeliveryLabels {
    pub event: String,
    pub outcome: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct JobLabels {
    pub outcome: String,
}

/// Every figure the bot exports.
#[derive(Debug)]
pub struct Metrics {
    registry: Registry,
    pub deliveries: Family<DeliveryLabels, Counter>,
    pub queue_depth: Gauge,
    pub jobs: Family<JobLabels, Counter>,
    pub job_seconds: Histogram,
    pub github_requests: Family<StatusLabels, Counter>,
    pub rate_limit_remaining: Gauge<i64, std::sync::atomic::AtomicI64>,
    pub tokens_minted: Counter<u64, AtomicU64>,
}

impl Default for Metrics {
    fn default() -> Self {
        Metrics::new()
    }
}

impl Metrics {
    pub fn new() -> Metrics {
        let mut registry = Registry::with_prefix("vouch_bot");
        let deliveries = Family::<DeliveryLabels, Counter>::default();
        registry.register(
            "webhook_deliveries",
            "Webhook deliveries by event and outcome",
            deliveries.clone(),
        );
        let queue_depth = Gauge::default();
        registry.register("queue_depth", "Jobs queued or running", queue_depth.clone());
        let jobs = Family::<JobLabels, Counter>::default();
        registry.register("jobs", "Jobs finished, by outcome", jobs.clone());
        let job_seconds =
            Histogram::new([0.05, 0.1, 0.25, 0.5, 1.0, 2.0, 5.0, 10.0, 30.0, 60.0, 300.0]);
        registry.register(
            "job_duration_seconds",
            "Time from claiming a job to its check run being written",
            job_seconds.clone(),
        );
        let github_requests = Family::<StatusLabels, Counter>::default();
        registry.register(
            "github_requests",
            "GitHub API requests by response status",
            github_requests.clone(),
        );
        let rate_limit_remaining = Gauge::<i64, std::sync::atomic::AtomicI64>::default();
        rate_limit_remaining.set(-1);
        registry.register(
            "github_rate_limit_remaining",
            "x-ratelimit-remaining of the last GitHub response (-1 before the first)",
            rate_limit_remaining.clone(),
        );
        let tokens_minted = Counter::default();
        registry.register(
            "installation_tokens_minted",
            "Installation access tokens minted",
            tokens_minted.clone(),
        );
        Metrics {
            registry,
            deliveries,
            queue_depth,
            jobs,
            job_seconds,
            github_requests,
            rate_limit_remaining,
            tokens_minted,
        }
    }

    pub fn delivery(&self, event: &str, outcome: &str) {
        self.deliveries
            .get_or_create(&DeliveryLabels {
                event: event.to_string(),
                outcome: outcome.to_string(),
            })
            .inc();
    }

    pub fn job(&self, outcome: &str, seconds: f64) {
        self.jobs
            .get_or_create(&JobLabels {
                outcome: outcome.to_string(),
            })
            .inc();
        self.job_seconds.observe(seconds);
    }

    pub fn github(&self, status: u16) {
        self.github_requests
            .get_or_create(&StatusLabels {
                status: status.to_string(),
            })
            .inc();
    }

    /// The Prometheus text exposition.
    pub fn render(&self) -> String {
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}
