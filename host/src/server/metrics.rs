//! Prometheus metrics: request counts and latency by route and status, and gauges of
//! the workspace pools, rendered in the text format at `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{PoisonError, RwLock};

use axum::http::Method;

use crate::plugins::{PluginKind, PluginRuntime};
use crate::tenant::{PoolKind, TenantPools};

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    route: &'static str,
    method: &'static str,
    status: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RouteLabels {
    route: &'static str,
    method: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct PoolLabels {
    workspace: String,
    kind: String,
    state: String,
}

/// The registry and its metric families.
pub struct Metrics {
    registry: Registry,
    requests: Family<RequestLabels, Counter>,
    latency: Family<RouteLabels, Histogram>,
    pool_connections: Family<PoolLabels, Gauge>,
    server_connections: Gauge,
    server_connection_ceiling: Gauge,
    pools_open: Gauge,
    plugin_cache: Family<CacheLabels, Gauge>,
    plugin_idle: Family<KindLabels, Gauge>,
    exact_counts: Family<SourceLabels, Counter>,
    read_batches: Gauge,
    batched_reads: Gauge,
    /// The series of each route template seen so far (see `series`).
    routes: RwLock<HashMap<&'static str, Vec<Series>>>,
}

/// The request counter and latency histogram of one route, method and status, kept
/// so that a request finds both with one lookup.
#[derive(Clone)]
struct Series {
    method: &'static str,
    status: u16,
    requests: Counter,
    latency: Histogram,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    event: String,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct SourceLabels {
    source: &'static str,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct KindLabels {
    kind: String,
}

/// The label of a method: the standard ones by name, any other as `OTHER` (a client
/// must not be able to grow the label set).
fn method_label(method: &Method) -> &'static str {
    match *method {
        Method::GET => "GET",
        Method::POST => "POST",
        Method::PUT => "PUT",
        Method::PATCH => "PATCH",
        Method::DELETE => "DELETE",
        Method::HEAD => "HEAD",
        Method::OPTIONS => "OPTIONS",
        Method::TRACE => "TRACE",
        Method::CONNECT => "CONNECT",
        _ => "OTHER",
    }
}

fn latency_histogram() -> Histogram {
    // 250 µs doubling to about 8 s.
    Histogram::new(exponential_buckets(0.00025, 2.0, 16))
}

impl Metrics {
    /// Registers every family.
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("plinth");
        let requests = Family::<RequestLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered, by route, method and status",
            requests.clone(),
        );
        let latency = Family::<RouteLabels, Histogram>::new_with_constructor(
            latency_histogram as fn() -> Histogram,
        );
        registry.register(
            "http_request_duration_seconds",
            "Time to answer an HTTP request, by route and method",
            latency.clone(),
        );
        let pool_connections = Family::<PoolLabels, Gauge>::default();
        registry.register(
            "pool_connections",
            "Connections of each open workspace pool, by state (idle or in_use)",
            pool_connections.clone(),
        );
        let server_connections = Gauge::default();
        registry.register(
            "server_connections",
            "Server connections open to PostgreSQL across all workspace pools",
            server_connections.clone(),
        );
        let server_connection_ceiling = Gauge::default();
        registry.register(
            "server_connection_ceiling",
            "The configured ceiling on server connections",
            server_connection_ceiling.clone(),
        );
        let pools_open = Gauge::default();
        registry.register("pools_open", "Workspace pools open now", pools_open.clone());
        let plugin_cache = Family::<CacheLabels, Gauge>::default();
        registry.register(
            "plugin_components",
            "Plugin components since start, by how they were obtained (compiled, loaded from disk, rejected artifact)",
            plugin_cache.clone(),
        );
        let plugin_idle = Family::<KindLabels, Gauge>::default();
        registry.register(
            "plugin_idle_instances",
            "Warm plugin instances waiting for reuse, by plugin kind",
            plugin_idle.clone(),
        );
        let exact_counts = Family::<SourceLabels, Counter>::default();
        registry.register(
            "exact_counts",
            "Exact totals of Data API reads, by source (counted by the database, or reused while the table had no write)",
            exact_counts.clone(),
        );
        let read_batches = Gauge::default();
        registry.register(
            "read_batches",
            "Batch statements since start that answered concurrent Data API reads of one shape together",
            read_batches.clone(),
        );
        let batched_reads = Gauge::default();
        registry.register(
            "batched_reads",
            "Data API reads since start answered by a batch statement",
            batched_reads.clone(),
        );
        Self {
            registry,
            requests,
            latency,
            pool_connections,
            server_connections,
            server_connection_ceiling,
            pools_open,
            plugin_cache,
            plugin_idle,
            exact_counts,
            read_batches,
            batched_reads,
            routes: RwLock::default(),
        }
    }

    /// The counters of exact totals: reused, and counted by the database.
    pub fn exact_count_counters(&self) -> (Counter, Counter) {
        let counter = |source| {
            self.exact_counts
                .get_or_create(&SourceLabels { source })
                .clone()
        };
        (counter("reused"), counter("counted"))
    }

    /// Records one answered request.
    pub fn observe(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let series = self.series(route, method_label(method), status);
        series.requests.inc();
        series.latency.observe(seconds);
    }

    /// The series of a request, made on its first request. Routes are the router's
    /// fixed templates (and `unmatched`), methods a fixed set and statuses few, so
    /// the set is bounded; the route's label is kept for the life of the process.
    fn series(&self, route: &str, method: &'static str, status: u16) -> Series {
        let find = |all: &[Series]| {
            all.iter()
                .find(|s| s.method == method && s.status == status)
                .cloned()
        };
        let known = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = known.get(route).and_then(|all| find(all)) {
            return series;
        }
        drop(known);
        let mut known = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(series) = known.get(route).and_then(|all| find(all)) {
            return series;
        }
        let label: &'static str = match known.get_key_value(route) {
            Some((label, _)) => label,
            None => Box::leak(route.to_owned().into_boxed_str()),
        };
        let series = Series {
            method,
            status,
            requests: self
                .requests
                .get_or_create(&RequestLabels {
                    route: label,
                    method,
                    status,
                })
                .clone(),
            latency: self
                .latency
                .get_or_create(&RouteLabels {
                    route: label,
                    method,
                })
                .clone(),
        };
        known.entry(label).or_default().push(series.clone());
        series
    }

    /// The text exposition, with pool gauges read now.
    pub fn render(&self, pools: &TenantPools, plugins: &PluginRuntime) -> String {
        let counters = plugins.cache_counters();
        for (event, value) in [
            ("compiled", &counters.compiled),
            ("loaded", &counters.loaded),
            ("rejected", &counters.rejected),
        ] {
            self.plugin_cache
                .get_or_create(&CacheLabels {
                    event: event.into(),
                })
                .set(value.load(Ordering::Relaxed) as i64);
        }
        for kind in PluginKind::ALL {
            self.plugin_idle
                .get_or_create(&KindLabels {
                    kind: kind.as_str().into(),
                })
                .set(plugins.idle_instances(kind) as i64);
        }
        self.pool_connections.clear();
        for (workspace, kind, size, available) in pools.pool_stats() {
            let kind = match kind {
                PoolKind::Api => "api",
                PoolKind::Admin => "admin",
                PoolKind::Vault => "vault",
            };
            for (state, value) in [
                ("idle", available),
                ("in_use", size.saturating_sub(available)),
            ] {
                self.pool_connections
                    .get_or_create(&PoolLabels {
                        workspace: workspace.to_string(),
                        kind: kind.into(),
                        state: state.into(),
                    })
                    .set(value as i64);
            }
        }
        self.server_connections.set(pools.open_connections() as i64);
        self.server_connection_ceiling.set(pools.ceiling() as i64);
        self.pools_open.set(pools.pool_count() as i64);
        let batches = pools.batch_counters();
        self.read_batches
            .set(batches.batches.load(Ordering::Relaxed) as i64);
        self.batched_reads
            .set(batches.reads.load(Ordering::Relaxed) as i64);
        let mut out = String::new();
        if prometheus_client::encoding::text::encode(&mut out, &self.registry).is_err() {
            out.clear();
        }
        out
    }
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_request_finds_its_series_and_a_route_is_labelled_once() {
        let metrics = Metrics::new();
        let route = "/v1/postgres/{ws}/rows/{table}";
        metrics.observe(route, &Method::GET, 200, 0.001);
        metrics.observe(&String::from(route), &Method::GET, 200, 0.002);
        metrics.observe(route, &Method::GET, 404, 0.001);
        metrics.observe(route, &Method::POST, 201, 0.001);
        {
            let known = metrics.routes.read().expect("routes");
            assert_eq!(known.len(), 1, "one label per route template");
            assert_eq!(known[route].len(), 3, "one series per method and status");
        }
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &metrics.registry).expect("encode");
        let line = |m: &str, status: u16| {
            format!(
                "plinth_http_requests_total{{route=\"{route}\",method=\"{m}\",status=\"{status}\"}}"
            )
        };
        assert!(text.contains(&format!("{} 2", line("GET", 200))), "{text}");
        assert!(text.contains(&format!("{} 1", line("GET", 404))), "{text}");
        assert!(text.contains(&format!("{} 1", line("POST", 201))), "{text}");
        assert!(
            text.contains(&format!(
                "plinth_http_request_duration_seconds_count{{route=\"{route}\",method=\"GET\"}} 3"
            )),
            "{text}"
        );
    }

    #[test]
    fn methods_are_bounded() {
        assert_eq!(method_label(&Method::GET), "GET");
        let custom = Method::from_bytes(b"BREW").expect("a valid extension method");
        assert_eq!(method_label(&custom), "OTHER");
    }
}
