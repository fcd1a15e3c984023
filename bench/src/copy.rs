//! The batch-write ceiling (COPY of 1,000-row batches at the same concurrency,
//! straight to PostgreSQL) and the NDJSON base-record load through Plinth.

use std::time::{Duration, Instant};

use anyhow::{bail, Context};
use bytes::Bytes;
use futures::SinkExt;

use crate::measure::{quantile_ms, Sample};

/// COPYs `batch`-row batches into `events` from `clients` connections for `seconds`.
pub async fn run(uri: &str, clients: u32, seconds: u32, batch: usize) -> anyhow::Result<Sample> {
    let lines: String = (0..batch)
        .map(|i| format!("batch\t{{\"i\": {i}}}\n"))
        .collect();
    let payload = Bytes::from(lines);
    let deadline = Instant::now() + Duration::from_secs(seconds as u64);
    let mut tasks = Vec::new();
    for _ in 0..clients {
        let (uri, payload) = (uri.to_owned(), payload.clone());
        tasks.push(tokio::spawn(async move {
            let (client, connection) = tokio_postgres::connect(&uri, tokio_postgres::NoTls).await?;
            tokio::spawn(connection);
            let mut latencies = Vec::new();
            while Instant::now() < deadline {
                let started = Instant::now();
                let sink = client
                    .copy_in("COPY tenant_custom.events (kind, payload) FROM STDIN")
                    .await?;
                futures::pin_mut!(sink);
                sink.send(payload.clone()).await?;
                sink.finish().await?;
                latencies.push(started.elapsed().as_micros() as u64);
            }
            Ok::<_, tokio_postgres::Error>(latencies)
        }));
    }
    let started = Instant::now();
    let mut latencies = Vec::new();
    for task in tasks {
        latencies.extend(task.await??);
    }
    let elapsed = started.elapsed().as_secs_f64();
    latencies.sort_unstable();
    Ok(Sample {
        rate: latencies.len() as f64 * batch as f64 / elapsed,
        p50_ms: quantile_ms(&latencies, 0.5),
        p99_ms: quantile_ms(&latencies, 0.99),
    })
}

/// Streams `records` NDJSON base records to the ingestion endpoint; rows/s.
pub async fn ingest(
    base: &str,
    key: &str,
    _workspace: &str,
    records: usize,
) -> anyhow::Result<f64> {
    let chunks = (0..records).step_by(10_000).map(move |start| {
        let end = (start + 10_000).min(records);
        let mut chunk = String::with_capacity((end - start) * 120);
        for i in start..end {
            chunk.push_str(&format!(
                "{{\"identity_key\":\"person-{i}\",\"status\":\"active\",\"identity_payload\":{{\"name\":\"Person {i}\"}},\"raw_payload\":{{\"source\":\"bench\",\"n\":{i}}}}}\n"
            ));
        }
        Ok::<_, std::io::Error>(Bytes::from(chunk))
    });
    let body = reqwest::Body::wrap_stream(futures::stream::iter(chunks));
    let started = Instant::now();
    let response = reqwest::Client::new()
        .post(format!("{base}/api/v2/ingestion/records/people"))
        .bearer_auth(key)
        .header("Content-Type", "application/x-ndjson")
        .body(body)
        .send()
        .await
        .context("sending the records")?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    if !status.is_success() {
        bail!("ingestion failed: {status} {text}");
    }
    Ok(records as f64 / started.elapsed().as_secs_f64())
}
