//! One filter-parser plugin call (the built-in component, warm instance pool)
//! against the same parse done natively by `filter-grammar`, for issue 3's target of
//! at most 10 µs median per call. Run: `cargo bench -p plinth --bench filter_parse`.

use std::time::Duration;

use criterion::{criterion_group, criterion_main, Criterion};
use plinth::config::{PluginLimits, PluginSettings};
use plinth::plugins::{PluginKind, PluginRuntime};
use uuid::Uuid;

/// The R1 scenario's query string.
const QUERY: &str = "select=id,name,price&category=eq.books&price=gte.50&order=price.desc&limit=20";

fn settings() -> PluginSettings {
    PluginSettings::uniform(PluginLimits {
        deadline: Duration::from_millis(100),
        memory_bytes: 16 << 20,
        max_instances: 16,
    })
}

fn filter_parse(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("a tokio runtime");
    let cache = tempfile::tempdir().expect("a temp dir");
    let runtime = rt
        .block_on(PluginRuntime::new(
            &settings(),
            Some(cache.path().to_owned()),
            None,
            None,
        ))
        .expect("the plugin runtime starts");
    let workspace = Uuid::nil();
    let plugin = rt
        .block_on(runtime.resolve(PluginKind::FilterParser, Some(workspace)))
        .expect("the built-in parser");
    let parsed = rt
        .block_on(runtime.parse_with(&plugin, Some(workspace), QUERY))
        .expect("the plugin runs");
    assert!(parsed.is_ok(), "the query parses");

    let mut group = c.benchmark_group("filter_parse");
    group.bench_function("wasm_component_call", |b| {
        b.to_async(&rt).iter(|| {
            let (runtime, plugin) = (runtime.clone(), plugin.clone());
            async move { runtime.parse_with(&plugin, Some(workspace), QUERY).await }
        })
    });
    group.bench_function("native_filter_grammar", |b| {
        b.iter(|| filter_grammar::parse(std::hint::black_box(QUERY)))
    });
    group.finish();
}

criterion_group!(benches, filter_parse);
criterion_main!(benches);
