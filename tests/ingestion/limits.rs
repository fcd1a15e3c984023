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
    let role = plinth::names::role(id, plinth::control::roles::RoleKind::Read);
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

/// The newer PostgreSQL that `cargo xtask test` installs (Debian 12's 15 has no
/// `reserved_connections`).
fn postgres_next_bindir() -> String {
    std::env::var("PLINTH_TEST_POSTGRES_NEXT_BINDIR").unwrap_or_else(|_| {
        panic!("PLINTH_TEST_POSTGRES_NEXT_BINDIR is not set: run the tests with `cargo xtask test`, which installs PostgreSQL 17 for them")
    })
}

#[tokio::test]
async fn tenants_together_cannot_take_the_connections_plinth_keeps_for_its_pools() {
    let bindir = postgres_next_bindir();
    assert!(
        std::path::Path::new(&bindir).join("postgres").is_file(),
        "no PostgreSQL in {bindir}: run `cargo xtask setup`"
    );
    let path = format!("{bindir}:{}", std::env::var("PATH").unwrap_or_default());
    // Plinth keeps as many slots as its pools' ceiling (200 of 300 here, so that the
    // attacker's share is quick to fill); the attacker's own role limit is no help.
    let server = Plinth::start(ServerOptions {
        env: vec![
            ("PATH".into(), path),
            ("PLINTH_MAX_SERVER_CONNECTIONS".into(), "200".into()),
            ("PLINTH_TENANT_CONNECTION_LIMIT".into(), "300".into()),
        ],
        ..Default::default()
    });
    let attacker = Workspace::provisioned(&server, "takes every slot").await;
    let victim = Workspace::provisioned(&server, "still served").await;
    let uri = attacker.reveal("runtime", false).await;
    let mut held = Vec::new();
    let refused = loop {
        match support::try_connect(&uri).await {
            Ok(client) => held.push(client),
            Err(refused) => break refused,
        }
        assert!(held.len() < 300, "the cluster never refused a connection");
    };
    assert!(
        refused.contains("pg_use_reserved_connections"),
        "refused for another reason after {}: {refused}",
        held.len()
    );
    assert!(
        held.len() <= 300 - 3 - 200,
        "the tenant took {} connections",
        held.len()
    );
    // Another tenant's direct URI is refused too: the slots are Plinth's alone.
    let victims_own = support::try_connect(&victim.reveal("runtime", false).await).await;
    assert!(
        victims_own.is_err(),
        "a tenant role reached a reserved slot"
    );

    // Plinth still provisions, and opens pools for every workspace.
    let late = Workspace::provisioned(&server, "provisioned meanwhile").await;
    for ws in [&victim, &attacker, &late] {
        let api = ws.key(&["workspace:update"]).await;
        let resp = api
            .post(
                &format!("/v1/{}/query", ws.id),
                json!({"sql": "SELECT 1 AS one"}),
            )
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
    }
    drop(held);
}
