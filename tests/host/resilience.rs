//! PostgreSQL going away under the host: requests in between get 503 quickly, and
//! service resumes when it is back.

use std::time::{Duration, Instant};

use crate::support::{Plinth, ServerOptions, TestPostgres, Workspace};

#[tokio::test]
async fn a_postgres_crash_gives_503_not_a_hang_and_service_resumes_after_restart() {
    let pg = TestPostgres::start();
    let server = Plinth::start(ServerOptions {
        database_url: Some(pg.url()),
        ..Default::default()
    });
    let ws = Workspace::provisioned(&server, "resilient").await;
    let client = ws.key(&["ingestion:read"]).await;
    assert_eq!(client.get("/api/v2/ingestion/status").await.status, 200);

    pg.crash();
    let started = Instant::now();
    let resp = client.get("/api/v2/ingestion/status").await;
    assert_eq!(resp.status, 503, "{}", resp.body);
    assert_eq!(resp.code(), "database_unavailable");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "took {:?}",
        started.elapsed()
    );
    assert_eq!(server.anonymous().get("/readyz").await.status, 503);
    assert_eq!(server.anonymous().get("/healthz").await.status, 200);

    pg.restart();
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let resp = client.get("/api/v2/ingestion/status").await;
        if resp.status == 200 {
            assert_eq!(resp.body["provisioned"], true);
            break;
        }
        assert!(Instant::now() < deadline, "did not recover: {}", resp.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert_eq!(server.anonymous().get("/readyz").await.status, 200);
}
