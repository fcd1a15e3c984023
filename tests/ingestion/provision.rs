//! Provisioning: status, idempotence, concurrency, and recovery from a manual drop.

use serde_json::json;

use crate::support::{self, Workspace};

#[tokio::test]
async fn status_says_unprovisioned_until_provisioning_makes_it_ready() {
    let server = support::shared();
    let ws = Workspace::create(server, "status").await;
    let reader = ws.key(&["ingestion:read"]).await;
    let resp = reader.get("/api/v2/ingestion/status").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["provisioned"], false);
    assert_eq!(resp.body["plane_status"], "unprovisioned");
    assert_eq!(resp.body["ready"], false);

    // Reading status is not enough to provision.
    let resp = reader.post("/api/v2/ingestion/provision", json!({})).await;
    assert_eq!(resp.status, 403);

    let admin = ws.key(&["ingestion:admin"]).await;
    let resp = admin.post("/api/v2/ingestion/provision", json!({})).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["provisioned"], true);
    assert_eq!(resp.body["plane_status"], "active");
    assert_eq!(resp.body["ready"], true);

    let resp = reader.get("/api/v2/ingestion/status").await;
    assert_eq!(resp.body["ready"], true);
}

#[tokio::test]
async fn the_workspace_database_has_the_managed_schemas_at_the_newest_version() {
    let server = support::shared();
    let ws = Workspace::provisioned(server, "schemas").await;
    let client = support::workspace_superuser(&ws).await;
    let schemas: Vec<String> = client
        .query(
            "SELECT nspname::text FROM pg_namespace WHERE nspname IN
             ('dl_cache','dl_override','dl_resolved','dl_meta','tenant_custom') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    assert_eq!(
        schemas,
        [
            "dl_cache",
            "dl_meta",
            "dl_override",
            "dl_resolved",
            "tenant_custom"
        ]
    );
    let relations: Vec<String> = client
        .query(
            "SELECT n.nspname || '.' || c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
             WHERE n.nspname LIKE 'dl\\_%' AND c.relkind IN ('r', 'v') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| r.get(0))
        .collect();
    for expected in [
        "dl_cache.company_enrichments",
        "dl_cache.person_enrichments",
        "dl_meta.schema_migrations",
        "dl_meta.tenant_settings",
        "dl_override.company_overrides",
        "dl_override.person_overrides",
        "dl_resolved.companies",
        "dl_resolved.people",
    ] {
        assert!(
            relations.iter().any(|r| r == expected),
            "{expected} missing from {relations:?}"
        );
    }
    let version: i32 = client
        .query_one("SELECT max(version) FROM dl_meta.schema_migrations", &[])
        .await
        .unwrap()
        .get(0);
    assert!(version >= 1);
}

#[tokio::test]
async fn provisioning_twice_at_once_creates_one_database_and_both_succeed() {
    let server = support::shared();
    let ws = Workspace::create(server, "concurrent").await;
    let admin = ws.ingestion_admin();
    let (a, b) = tokio::join!(
        admin.post("/api/v2/ingestion/provision", json!({})),
        admin.post("/api/v2/ingestion/provision", json!({}))
    );
    assert_eq!(a.status, 200, "{}", a.body);
    assert_eq!(b.status, 200, "{}", b.body);
    let client = support::pg_connect(&support::shared_cluster().url()).await;
    let n: i64 = client
        .query_one(
            "SELECT count(*) FROM pg_database WHERE datname = $1",
            &[&ws.database()],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 1);
    // And again later: idempotent.
    assert_eq!(
        admin
            .post("/api/v2/ingestion/provision", json!({}))
            .await
            .status,
        200
    );
}

#[tokio::test]
async fn a_database_dropped_by_hand_is_reported_and_recreated_by_provisioning() {
    let server = support::shared();
    let ws = Workspace::provisioned(server, "dropped").await;
    let uri = ws.reveal("runtime", false).await;
    let customer = support::try_connect(&uri).await.unwrap();
    customer
        .batch_execute("CREATE TABLE tenant_custom.doomed (id int)")
        .await
        .unwrap();
    drop(customer);

    let db = ws.database();
    let superuser = support::pg_connect(&support::shared_cluster().url()).await;
    superuser
        .batch_execute(&format!("DROP DATABASE {db} WITH (FORCE)"))
        .await
        .unwrap();

    let admin = ws.ingestion_admin();
    let resp = admin.get("/api/v2/ingestion/status").await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["provisioned"], false);
    assert_eq!(resp.body["ready"], false);
    assert!(
        resp.body["message"].as_str().unwrap().contains("missing"),
        "{}",
        resp.body
    );

    let resp = admin.post("/api/v2/ingestion/provision", json!({})).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["ready"], true);
    // The same URI (roles and passwords survive) reaches a fresh database.
    let customer = support::try_connect(&uri)
        .await
        .expect("the old URI works again");
    let n: i64 = customer
        .query_one("SELECT count(*) FROM dl_resolved.people", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 0);
}

#[tokio::test]
async fn the_admin_token_must_name_the_workspace() {
    let server = support::shared();
    let resp = server.admin().get("/api/v2/ingestion/status").await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("X-Workspace-Id"));
    let resp = server
        .admin()
        .with_header("X-Workspace-Id", &uuid::Uuid::new_v4().to_string())
        .get("/api/v2/ingestion/status")
        .await;
    assert_eq!(resp.status, 404);
}
