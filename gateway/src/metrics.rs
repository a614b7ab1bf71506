//! Prometheus metrics of the gateway: requests by operation and status,
//! latency, bytes in and out.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

/// Labels of a finished request.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RequestLabels {
    /// S3 operation (or "OPTIONS" for preflights).
    pub operation: String,
    /// HTTP status code.
    pub status: String,
}

/// Labels of a latency sample.
#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct OperationLabels {
    /// S3 operation.
    pub operation: String,
}

/// The gateway's metrics (one set per gateway instance).
#[derive(Clone)]
pub struct GatewayMetrics {
    requests: Family<RequestLabels, Counter>,
    latency: Family<OperationLabels, Histogram>,
    bytes_in: Counter,
    bytes_out: Counter,
}

impl GatewayMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let m = GatewayMetrics {
            requests: Family::default(),
            latency: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.0005, 2.0, 18))
            }),
            bytes_in: Counter::default(),
            bytes_out: Counter::default(),
        };
        registry.register(
            "s3_requests",
            "S3 requests by operation and status",
            m.requests.clone(),
        );
        registry.register(
            "s3_request_duration_seconds",
            "Time to the response head",
            m.latency.clone(),
        );
        registry.register(
            "s3_received_bytes",
            "Request body bytes received",
            m.bytes_in.clone(),
        );
        registry.register(
            "s3_sent_bytes",
            "Response body bytes sent",
            m.bytes_out.clone(),
        );
        m
    }

    /// Records a finished request.
    pub fn observe(&self, operation: &str, status: u16, seconds: f64) {
        self.requests
            .get_or_create(&RequestLabels {
                operation: operation.to_string(),
                status: status.to_string(),
            })
            .inc();
        self.latency
            .get_or_create(&OperationLabels {
                operation: operation.to_string(),
            })
            .observe(seconds);
    }

    /// Counts body bytes received.
    pub fn add_in(&self, n: u64) {
        self.bytes_in.inc_by(n);
    }

    /// Counts body bytes sent.
    pub fn add_out(&self, n: u64) {
        self.bytes_out.inc_by(n);
    }
}
