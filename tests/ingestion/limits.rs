//! Each workspace is bounded in PostgreSQL itself: its customer login roles have a
//! connection limit, and every login role statement, idle-in-transaction and
//! temp-file limits, so that a revealed URI cannot exhaust the shared cluster.

use std::time::{Duration, Instant};

use serde_json::json;

use crate::support::{self, Plinth, ServerOptions, TestPostgres, Workspace};

#[tokio::test]
async fn a_revealed_uri_cannot_open_more_connections_than_its_roles_limit() {
    // A cluster of its own: every server applies its limits to every workspace of
    // its control database at start-up.
    let pg = TestPostgres::start();
    let server = Plinth::start(ServerOptions {
        database_url: Some(pg.url()),
        env: vec![("PLINTH_TENANT_CONNECTION_LIMIT".into(), "5".into())],
        ..Default::default()
    });
    let ws = Workspace::provisioned(&server, "connection limit").await;
    let uri = ws.reveal("runtime", false).await;
    let mut held = Vec::new();
    for i in 0..5 {
        let client = support::try_connect(&uri)
            .await
            .unwrap_or_else(|e| panic!("connection {i} within the limit: {e}"));
        held.push(client);
    }
    let Err(refused) = support::try_connect(&uri).await else {
        panic!("a sixth connection must be refused");
    };
    assert!(
        refused.contains("too many connections for role"),
        "{refused}"
    );
    // The read role has its own limit; Plinth's own pools are not the customer's.
    assert!(support::try_connect(&ws.reveal("read", false).await)
        .await
        .is_ok());
    let api = ws.key(&["workspace:update"]).await;
    let resp = api
        .post(
            &format!("/v1/{}/query", ws.id),
            json!({"sql": "SELECT 1 AS one"}),
        )
        .await;
    assert_eq!(
        resp.status, 200,
        "Plinth still serves the workspace: {}",
        resp.body
    );

    // Every login role carries the timeouts and the temp-file limit.
    let client = &held[0];
    for (setting, expected) in [
        ("statement_timeout", "1min"),
        ("idle_in_transaction_session_timeout", "1min"),
        ("temp_file_limit", "1GB"),
    ] {
        let row = client
            .query_one(&format!("SHOW {setting}"), &[])
            .await
            .unwrap();
        assert_eq!(row.get::<_, String>(0), expected, "{setting}");
    }
}

#[tokio::test]
async fn existing_workspaces_are_brought_to_the_limits_at_start_up() {
    let pg = TestPostgres::start();
    let first = Plinth::start(ServerOptions {
        database_url: Some(pg.url()),
        ..Default::default()
    });
    let ws = Workspace::provisioned(&first, "limits at start-up").await;
    let id = uuid::Uuid::parse_str(&ws.id).unwrap();
    let role = plinth::tenant::names::role(id, plinth::control::roles::RoleKind::Read);
    let admin = support::pg_connect(&pg.url()).await;
    admin
        .batch_execute(&format!(
            "ALTER ROLE \"{role}\" CONNECTION LIMIT -1; ALTER ROLE \"{role}\" RESET ALL"
        ))
        .await
        .unwrap();
    let _second = Plinth::start(ServerOptions {
        database_url: Some(pg.url()),
        env: vec![("PLINTH_TENANT_CONNECTION_LIMIT".into(), "7".into())],
        ..Default::default()
    });
    let started = Instant::now();
    loop {
        let row = admin
            .query_one(
                "SELECT rolconnlimit, coalesce(array_to_string(rolconfig, ','), '') FROM pg_roles WHERE rolname = $1",
                &[&role],
            )
            .await
            .unwrap();
        let (limit, config): (i32, String) = (row.get(0), row.get(1));
        if limit == 7 && config.contains("statement_timeout=60000") {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the role was not bounded at start-up: limit {limit}, config {config}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}
