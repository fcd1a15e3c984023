//! One measurement: throughput and latency percentiles, and the medians of runs.

/// Throughput and latency of one run.
#[derive(Debug, Clone, Copy, Default)]
pub struct Sample {
    /// Requests (or rows, for batch scenarios) per second.
    pub rate: f64,
    /// Median latency in milliseconds.
    pub p50_ms: f64,
    /// 99th percentile latency in milliseconds.
    pub p99_ms: f64,
}

/// The median of `values` (the upper one of an even count; 0 for none).
pub fn median(mut values: Vec<f64>) -> f64 {
    values.sort_by(|a, b| a.total_cmp(b));
    if values.is_empty() {
        return 0.0;
    }
    values[values.len() / 2]
}

/// The per-field medians of several runs.
pub fn medians(samples: &[Sample]) -> Sample {
    Sample {
        rate: median(samples.iter().map(|s| s.rate).collect()),
        p50_ms: median(samples.iter().map(|s| s.p50_ms).collect()),
        p99_ms: median(samples.iter().map(|s| s.p99_ms).collect()),
    }
}

/// The `q` quantile of latencies in microseconds, in milliseconds.
pub fn quantile_ms(sorted_us: &[u64], q: f64) -> f64 {
    if sorted_us.is_empty() {
        return 0.0;
    }
    let index = ((sorted_us.len() as f64 - 1.0) * q).round() as usize;
    sorted_us[index] as f64 / 1000.0
}
