//! Prometheus metrics: request counts and latency by route and status, and gauges of
//! the workspace pools, rendered in the text format at `GET /metrics`.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{exponential_buckets, Histogram};
use prometheus_client::registry::Registry;

use std::collections::HashSet;
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
    /// Route templates seen so far, as labels (see `route_label`).
    routes: RwLock<HashSet<&'static str>>,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct CacheLabels {
    event: String,
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
            routes: RwLock::default(),
        }
    }

    /// Records one answered request.
    pub fn observe(&self, route: &str, method: &Method, status: u16, seconds: f64) {
        let route = self.route_label(route);
        let method = method_label(method);
        self.requests
            .get_or_create(&RequestLabels {
                route,
                method,
                status,
            })
            .inc();
        self.latency
            .get_or_create(&RouteLabels { route, method })
            .observe(seconds);
    }

    /// The label of a route template, kept for the life of the process: routes are
    /// the router's fixed templates (and `unmatched`), so the set is bounded, and a
    /// request's labels then cost no allocation.
    fn route_label(&self, route: &str) -> &'static str {
        let known = self.routes.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(label) = known.get(route) {
            return label;
        }
        drop(known);
        let mut known = self.routes.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(label) = known.get(route) {
            return label;
        }
        let label: &'static str = Box::leak(route.to_owned().into_boxed_str());
        known.insert(label);
        label
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
    fn route_labels_are_interned_and_methods_bounded() {
        let metrics = Metrics::new();
        let first = metrics.route_label("/v1/postgres/{ws}/rows/{table}");
        let again = metrics.route_label(&String::from("/v1/postgres/{ws}/rows/{table}"));
        assert!(std::ptr::eq(first, again), "one label per route template");
        assert_eq!(method_label(&Method::GET), "GET");
        let custom = Method::from_bytes(b"BREW").expect("a valid extension method");
        assert_eq!(method_label(&custom), "OTHER");
    }
}
