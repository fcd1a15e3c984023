//! F: R2's floor — the stack Plinth is built on, with nothing of Plinth in it.
//!
//! A hyper HTTP/1 server on tokio, in the harness's own process, answers R2's
//! request (`GET …/products/{id}`) by sending Plinth's R2 statement over four
//! tokio-postgres connections that pipeline concurrent queries (Plinth's lane has
//! four), and returns the row's JSON. No routing, authentication, caches, plan,
//! SQL building, metrics or deadline. wrk drives it as it drives Plinth, and the
//! process's CPU time per request is the least a host on this stack spends. The gap
//! between it and Plinth's figure is Plinth's own layers.

use std::convert::Infallible;
use std::path::Path;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use anyhow::Context;
use bytes::Bytes;
use http_body_util::Full;
use hyper::{Request, Response, StatusCode};
use plinth::sql::statement::{Param, Statement as Sql};
use tokio_postgres::{Client, NoTls, Statement};

use crate::measure::Sample;
use crate::statements::PRODUCT_ID;
/// Connections that pipeline the queries, as many as Plinth's lane has.
const CONNECTIONS: usize = 4;

/// One run of the floor: the sample and the process's CPU µs per request.
pub struct FloorRun {
    /// Throughput and latency.
    pub sample: Sample,
    /// CPU time of the floor's process per request.
    pub cpu_us_per_request: f64,
}

/// The running floor server.
pub struct Floor {
    /// `http://127.0.0.1:PORT`.
    pub base: String,
    task: tokio::task::JoinHandle<()>,
}

struct Lane {
    connections: Vec<(Client, Statement)>,
    next: AtomicUsize,
    /// The statement's parameters as built for [`PRODUCT_ID`]'s sample.
    params: Vec<Param>,
    /// Which of them is the id.
    id_at: usize,
}

impl Floor {
    /// Opens the connections to `uri` (R2's database) and starts serving `r2`, the
    /// statement Plinth sends for R2 (built for [`PRODUCT_ID`]'s sample).
    pub async fn start(uri: &str, r2: &Sql) -> anyhow::Result<Self> {
        let id_at = r2
            .params
            .iter()
            .position(|p| *p == Param::Text(PRODUCT_ID.sample.into()))
            .context("R2's statement has no id parameter")?;
        let mut connections = Vec::new();
        for _ in 0..CONNECTIONS {
            let (client, connection) = tokio_postgres::connect(uri, NoTls).await?;
            tokio::spawn(connection);
            let statement = client.prepare_typed(&r2.text, &r2.types()).await?;
            connections.push((client, statement));
        }
        let lane = Arc::new(Lane {
            connections,
            next: AtomicUsize::new(0),
            params: r2.params.clone(),
            id_at,
        });
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
        let base = format!("http://{}", listener.local_addr()?);
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                let _ = stream.set_nodelay(true);
                let lane = lane.clone();
                tokio::spawn(async move {
                    let service = hyper::service::service_fn(move |request| {
                        let lane = lane.clone();
                        async move { Ok::<_, Infallible>(answer(&lane, request).await) }
                    });
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(hyper_util::rt::TokioIo::new(stream), service)
                        .await;
                });
            }
        });
        Ok(Self { base, task })
    }

    /// Runs R2's request against the floor with wrk.
    pub fn run(&self, connections: u32, seconds: u32, dir: &Path) -> anyhow::Result<FloorRun> {
        let script = crate::wrk::script("GET", "/products/{id}", "", None, false, None);
        let before = crate::cpu_seconds(std::process::id());
        let sample = crate::wrk::run(&self.base, &script, connections, seconds, dir)
            .context("wrk against the floor")?;
        let used = crate::cpu_seconds(std::process::id()) - before;
        Ok(FloorRun {
            cpu_us_per_request: used * 1e6 / (sample.rate * f64::from(seconds)),
            sample,
        })
    }
}

impl Drop for Floor {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn answer(lane: &Lane, request: Request<hyper::body::Incoming>) -> Response<Full<Bytes>> {
    let id = request.uri().path().rsplit('/').next().unwrap_or("");
    let mut params = lane.params.clone();
    params[lane.id_at] = Param::Text(id.to_owned());
    let index = lane.next.fetch_add(1, Ordering::Relaxed) % lane.connections.len();
    let (client, statement) = &lane.connections[index];
    let values: Vec<_> = params.iter().map(Param::value).collect();
    let Ok(row) = client.query_one(statement, &values).await else {
        return status(StatusCode::INTERNAL_SERVER_ERROR);
    };
    let page: &str = row.get(0);
    let object = page
        .strip_prefix('[')
        .and_then(|p| p.strip_suffix(']'))
        .unwrap_or("");
    if object.is_empty() {
        return status(StatusCode::NOT_FOUND);
    }
    let mut response = Response::new(Full::new(Bytes::copy_from_slice(object.as_bytes())));
    response.headers_mut().insert(
        hyper::header::CONTENT_TYPE,
        hyper::header::HeaderValue::from_static("application/json"),
    );
    response
}

fn status(code: StatusCode) -> Response<Full<Bytes>> {
    let mut response = Response::new(Full::new(Bytes::new()));
    *response.status_mut() = code;
    response
}
