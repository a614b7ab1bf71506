//! Request counts and latencies of every gRPC method, as a tower layer.
//! Registries are per service instance, never global, so ten in-process
//! nodes keep separate counters.

use std::future::Future;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Instant;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RpcLabels {
    method: String,
    code: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct MethodLabel {
    method: String,
}

/// Request counts and latencies per RPC method, for one service instance.
#[derive(Clone)]
pub struct RpcMetrics {
    requests: Family<RpcLabels, Counter>,
    duration: Family<MethodLabel, Histogram, fn() -> Histogram>,
}

impl RpcMetrics {
    /// Registers `rpc_requests_total` and `rpc_duration_seconds` in `registry`.
    pub fn register(registry: &mut Registry) -> Self {
        let requests = Family::<RpcLabels, Counter>::default();
        let duration: Family<MethodLabel, Histogram, fn() -> Histogram> =
            Family::new_with_constructor(|| Histogram::new(exponential_buckets(0.0005, 2.0, 18)));
        registry.register(
            "rpc_requests",
            "RPC requests by method and gRPC status code",
            requests.clone(),
        );
        registry.register(
            "rpc_duration_seconds",
            "Time to the response headers of each RPC",
            duration.clone(),
        );
        RpcMetrics { requests, duration }
    }

    /// Records one finished request.
    pub fn observe(&self, method: &str, code: &str, seconds: f64) {
        self.requests
            .get_or_create(&RpcLabels {
                method: method.to_string(),
                code: code.to_string(),
            })
            .inc();
        self.duration
            .get_or_create(&MethodLabel {
                method: method.to_string(),
            })
            .observe(seconds);
    }
}

/// Tower layer recording [`RpcMetrics`] for every gRPC request.
#[derive(Clone)]
pub struct RpcMetricsLayer(pub RpcMetrics);

impl<S> tower::Layer<S> for RpcMetricsLayer {
    type Service = RpcMetricsService<S>;
    fn layer(&self, inner: S) -> Self::Service {
        RpcMetricsService {
            inner,
            metrics: self.0.clone(),
        }
    }
}

/// Service made by [`RpcMetricsLayer`].
#[derive(Clone)]
pub struct RpcMetricsService<S> {
    inner: S,
    metrics: RpcMetrics,
}

impl<S, B, R> tower::Service<http::Request<B>> for RpcMetricsService<S>
where
    S: tower::Service<http::Request<B>, Response = http::Response<R>> + Send,
    S::Future: Send + 'static,
{
    type Response = S::Response;
    type Error = S::Error;
    type Future = Pin<Box<dyn Future<Output = Result<S::Response, S::Error>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: http::Request<B>) -> Self::Future {
        let method = req
            .uri()
            .path()
            .rsplit('/')
            .next()
            .unwrap_or("unknown")
            .to_string();
        let metrics = self.metrics.clone();
        let start = Instant::now();
        let fut = self.inner.call(req);
        Box::pin(async move {
            let res = fut.await;
            let code = match &res {
                Ok(resp) => resp
                    .headers()
                    .get("grpc-status")
                    .and_then(|v| v.to_str().ok())
                    .map(grpc_code_name)
                    .unwrap_or("ok")
                    .to_string(),
                Err(_) => "transport_error".to_string(),
            };
            metrics.observe(&method, &code, start.elapsed().as_secs_f64());
            res
        })
    }
}

fn grpc_code_name(code: &str) -> &'static str {
    match code {
        "0" => "ok",
        "1" => "cancelled",
        "2" => "unknown",
        "3" => "invalid_argument",
        "4" => "deadline_exceeded",
        "5" => "not_found",
        "6" => "already_exists",
        "7" => "permission_denied",
        "8" => "resource_exhausted",
        "9" => "failed_precondition",
        "10" => "aborted",
        "11" => "out_of_range",
        "12" => "unimplemented",
        "13" => "internal",
        "14" => "unavailable",
        "15" => "data_loss",
        "16" => "unauthenticated",
        _ => "other",
    }
}
