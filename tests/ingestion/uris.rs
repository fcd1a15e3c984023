//! Connection URIs: metadata without secrets, reveal, rotation, pooled URIs through
//! a real PgBouncer.

use serde_json::json;

use crate::support::pgbouncer::TestPgBouncer;
use crate::support::{self, Plinth, ServerOptions, TestPostgres, Workspace};

#[tokio::test]
async fn metadata_names_host_database_and_roles_without_secrets() {
    let server = support::shared();
    let ws = Workspace::provisioned(server, "metadata").await;
    let resp = ws
        .ingestion_admin()
        .get("/api/v2/ingestion/connection-uris/metadata")
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let simple = ws.id.replace('-', "");
    assert_eq!(resp.body["database"], format!("ws_{simple}"));
    assert_eq!(resp.body["roles"]["read"], format!("ws_{simple}_read"));
    assert_eq!(
        resp.body["roles"]["runtime"],
        format!("ws_{simple}_runtime")
    );
    assert_eq!(resp.body["port"], support::shared_cluster().port);
    let uri = ws.reveal("runtime", false).await;
    let password = uri.split(':').nth(2).unwrap().split('@').next().unwrap();
    assert!(!resp.body.to_string().contains(password));
}

#[tokio::test]
async fn reveal_and_rotate_refuse_bad_kinds_and_unprovisioned_workspaces() {
    let server = support::shared();
    let ws = Workspace::create(server, "not yet").await;
    let admin = ws.ingestion_admin();
    let resp = admin
        .post(
            "/api/v2/ingestion/connection-uris/reveal",
            json!({ "kind": "read" }),
        )
        .await;
    assert_eq!(resp.status, 503);
    assert_eq!(resp.code(), "workspace_not_provisioned");
    ws.provision().await;
    let resp = admin
        .post(
            "/api/v2/ingestion/connection-uris/reveal",
            json!({ "kind": "api" }),
        )
        .await;
    assert_eq!(resp.status, 400, "the host's own roles are never revealed");
    let resp = admin
        .post(
            "/api/v2/ingestion/connection-uris/rotate",
            json!({ "kind": "superuser" }),
        )
        .await;
    assert_eq!(resp.status, 400);
    let resp = admin
        .post(
            "/api/v2/ingestion/connection-uris/reveal",
            json!({ "kind": "read", "pooled": true }),
        )
        .await;
    assert_eq!(resp.status, 503, "no pooler configured on this server");
    assert_eq!(resp.code(), "pooler_unavailable");
}

#[tokio::test]
async fn rotation_makes_the_new_password_work_at_once_and_the_old_one_fail() {
    let server = support::shared();
    let ws = Workspace::provisioned(server, "rotate").await;
    let old = ws.reveal("runtime", false).await;
    support::try_connect(&old)
        .await
        .expect("the old password works before rotation");
    let resp = ws
        .ingestion_admin()
        .post(
            "/api/v2/ingestion/connection-uris/rotate",
            json!({ "kind": "runtime" }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(
        resp.body.get("uri").is_none(),
        "rotation does not echo the secret"
    );
    let new = ws.reveal("runtime", false).await;
    assert_ne!(old, new);
    support::try_connect(&new)
        .await
        .expect("the new password works at once");
    let err = support::try_connect(&old)
        .await
        .expect_err("the old password fails");
    assert!(err.contains("password authentication failed"), "{err}");
    // The other role is untouched.
    support::try_connect(&ws.reveal("read", false).await)
        .await
        .unwrap();
}

#[tokio::test]
async fn pooled_uris_go_through_the_operators_pgbouncer_and_follow_rotation() {
    let pg = TestPostgres::start();
    let bouncer = TestPgBouncer::start(&pg);
    let server = Plinth::start(ServerOptions {
        database_url: Some(pg.url()),
        env: vec![(
            "PLINTH_POOLER_ADDR".into(),
            format!("127.0.0.1:{}", bouncer.port),
        )],
        ..Default::default()
    });
    let ws = Workspace::provisioned(&server, "pooled").await;
    let pooled = ws.reveal("read", true).await;
    assert!(pooled.contains(&format!(":{}/", bouncer.port)), "{pooled}");
    let client = support::try_connect(&pooled)
        .await
        .expect("the pooled URI works");
    let db: String = client
        .query_one("SELECT current_database()::text", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(db, ws.database());
    drop(client);

    let resp = ws
        .ingestion_admin()
        .post(
            "/api/v2/ingestion/connection-uris/rotate",
            json!({ "kind": "read" }),
        )
        .await;
    assert_eq!(resp.status, 200);
    let err = support::try_connect(&pooled)
        .await
        .expect_err("the old pooled password fails");
    assert!(
        err.contains("password authentication failed") || err.contains("SASL"),
        "{err}"
    );
    let renewed = ws.reveal("read", true).await;
    let client = support::try_connect(&renewed)
        .await
        .expect("the new pooled password works");
    client
        .batch_execute("SELECT 1 FROM dl_resolved.people")
        .await
        .unwrap();
}

#[tokio::test]
async fn the_embedded_server_runs_its_own_pgbouncer_for_pooled_uris() {
    let server = Plinth::start(ServerOptions::default());
    let ws = Workspace::provisioned(&server, "embedded pooled").await;
    let direct = ws.reveal("runtime", false).await;
    let pooled = ws.reveal("runtime", true).await;
    assert_ne!(direct, pooled, "different ports");
    let client = support::try_connect(&pooled)
        .await
        .expect("the embedded PgBouncer accepts it");
    client
        .batch_execute(
            "CREATE TABLE tenant_custom.t (id int); INSERT INTO tenant_custom.t VALUES (1)",
        )
        .await
        .unwrap();
}
