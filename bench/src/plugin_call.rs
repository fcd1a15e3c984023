//! Scenario P: one call of the built-in filter-parser component through Plinth's
//! plugin runtime (warm instance, run budget armed, the typed `Query` checked on the
//! way back), beside the same parse by the native `filter-grammar` crate, in this
//! process. The harness sets the Wasm call against R1's median latency.

use std::time::{Duration, Instant};

use plinth::config::{PluginLimits, PluginSettings};
use plinth::plugins::{PluginKind, PluginRuntime};

/// R1's query string (with a fixed category).
pub const QUERY: &str =
    "select=id,name,price&category=eq.cat7&price=gte.50&order=price.desc&limit=20";
/// Calls timed together; the median of many batches is reported.
pub const BATCH: u32 = 200;

/// Median time of one call, each way.
#[derive(Debug, Clone, Copy)]
pub struct PluginCall {
    /// Through the Wasm component.
    pub wasm: Duration,
    /// Natively.
    pub native: Duration,
}

fn settings() -> PluginSettings {
    PluginSettings::uniform(PluginLimits {
        deadline: Duration::from_millis(100),
        memory_bytes: 16 << 20,
        max_instances: 16,
    })
}

fn median(mut batches: Vec<Duration>) -> Duration {
    batches.sort();
    batches[batches.len() / 2] / BATCH
}

/// Times the call for about `seconds` each way.
pub async fn measure(seconds: u32, cache_dir: &std::path::Path) -> anyhow::Result<PluginCall> {
    let runtime = PluginRuntime::new(&settings(), Some(cache_dir.to_owned()), None, None).await?;
    let workspace = uuid::Uuid::new_v4();
    let plugin = runtime
        .resolve(PluginKind::FilterParser, Some(workspace))
        .await?;
    let parsed = runtime.parse_with(&plugin, Some(workspace), QUERY).await?;
    anyhow::ensure!(parsed.is_ok(), "the built-in parser refused R1's query");
    anyhow::ensure!(
        filter_grammar::parse(QUERY).is_ok(),
        "the native grammar refused R1's query"
    );
    let budget = Duration::from_secs(u64::from(seconds.max(1)));

    let mut wasm = Vec::new();
    let started = Instant::now();
    while started.elapsed() < budget {
        let batch = Instant::now();
        for _ in 0..BATCH {
            let parsed = runtime
                .parse_with(&plugin, Some(workspace), std::hint::black_box(QUERY))
                .await?;
            std::hint::black_box(parsed.is_ok());
        }
        wasm.push(batch.elapsed());
    }
    let mut native = Vec::new();
    let started = Instant::now();
    while started.elapsed() < budget {
        let batch = Instant::now();
        for _ in 0..BATCH {
            std::hint::black_box(filter_grammar::parse(std::hint::black_box(QUERY)).is_ok());
        }
        native.push(batch.elapsed());
    }
    Ok(PluginCall {
        wasm: median(wasm),
        native: median(native),
    })
}
