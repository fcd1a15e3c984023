//! Graceful shutdown: stop accepting, finish what is in flight, then exit.

use std::time::Duration;

use crate::support::{self, Plinth, ServerOptions, Workspace};

/// The advisory-lock key Plinth takes while provisioning a workspace.
fn provision_lock_key(workspace: &str) -> i64 {
    let id = uuid::Uuid::parse_str(workspace).unwrap();
    let b = id.as_bytes();
    i64::from_be_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]])
}

#[tokio::test]
async fn sigterm_lets_a_request_in_flight_finish_then_exits_cleanly() {
    let cluster = support::shared_cluster();
    let server = Plinth::start(ServerOptions {
        database_url: Some(cluster.url()),
        ..Default::default()
    });
    let ws = Workspace::create(&server, "in flight").await;
    // Hold the workspace's provisioning lock so that the request stays in flight.
    let holder = support::pg_connect(&cluster.db_url("plinth_control")).await;
    holder
        .execute(
            "SELECT pg_advisory_lock($1)",
            &[&provision_lock_key(&ws.id)],
        )
        .await
        .unwrap();
    let admin = ws.admin.with_header("X-Workspace-Id", &ws.id);
    let in_flight = tokio::spawn(async move {
        admin
            .post("/api/v2/ingestion/provision", serde_json::json!({}))
            .await
    });
    tokio::time::sleep(Duration::from_millis(500)).await;
    support::procs::signal(server.pid().unwrap(), nix::sys::signal::Signal::SIGTERM);
    tokio::time::sleep(Duration::from_millis(500)).await;
    // No longer accepting new connections, but the request is still running.
    let refused = reqwest::Client::new()
        .get(format!("{}/healthz", server.base))
        .timeout(Duration::from_secs(2))
        .send()
        .await;
    assert!(
        refused.is_err(),
        "a new connection was accepted during shutdown"
    );
    assert!(!in_flight.is_finished());
    holder
        .execute(
            "SELECT pg_advisory_unlock($1)",
            &[&provision_lock_key(&ws.id)],
        )
        .await
        .unwrap();
    let resp = in_flight.await.unwrap();
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["provisioned"], true);
    let status = server.terminate().expect("exited");
    assert!(status.success(), "{status:?}\n{}", server.log_text());
}
