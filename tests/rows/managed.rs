//! The managed relations: `dl_resolved.*` read-only, `dl_override.*` writable, and
//! the schema cache following DDL made directly.

use serde_json::json;

use super::{key, Fixture};
use crate::support;

#[tokio::test]
async fn resolved_views_are_readable_and_read_only() {
    let f = Fixture::new("managed").await;
    f.db.execute(
        "INSERT INTO dl_override.person_overrides (identity_key, status, identity_payload_patch) VALUES ('p9', 'lead', '{\"name\":\"Grace\"}')",
        &[],
    )
    .await
    .unwrap();
    let resp = f
        .get(
            "dl_resolved.people",
            "select=identity_key,display_name,status",
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body["data"],
        json!([{ "identity_key": "p9", "display_name": "Grace", "status": "lead" }])
    );
    let resp = f
        .writer(&key())
        .post(
            &f.path("dl_resolved.people", ""),
            json!({ "identity_key": "x" }),
        )
        .await;
    assert_eq!(resp.status, 405);
    let resp = f
        .writer(&key())
        .patch(
            &f.path("dl_override.person_overrides", "identity_key=eq.p9"),
            json!({ "tombstoned": true }),
        )
        .await;
    assert_eq!(resp.body, json!({ "updated": 1 }));
    let resp = f.get("dl_resolved.people", "").await;
    assert_eq!(resp.body["data"], json!([]));
}

#[tokio::test]
async fn ddl_made_directly_is_seen_by_the_next_request() {
    let f = Fixture::new("managed ddl").await;
    assert_eq!(
        f.get("products", "select=id,color&id=eq.1").await.status,
        400
    );
    f.db.batch_execute("ALTER TABLE tenant_custom.products ADD COLUMN color text DEFAULT 'black'")
        .await
        .unwrap();
    let resp = f.get("products", "select=id,color&id=eq.1").await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["data"], json!([{ "id": 1, "color": "black" }]));
    // A read naming no column cannot learn of the new one from an error: only the
    // version its statement carries tells the cache it is stale.
    f.db.batch_execute("ALTER TABLE tenant_custom.products ADD COLUMN size text DEFAULT 'M'")
        .await
        .unwrap();
    let resp = f.get("products", "id=eq.1").await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["data"][0]["size"], "M", "{}", resp.body);
    f.db.batch_execute("ALTER TABLE tenant_custom.products DROP COLUMN size")
        .await
        .unwrap();
    f.db.batch_execute("CREATE TABLE tenant_custom.brand_new (id int PRIMARY KEY); INSERT INTO tenant_custom.brand_new VALUES (7)")
        .await
        .unwrap();
    assert_eq!(f.ids("brand_new", "").await, vec![7]);
    f.db.batch_execute("ALTER TABLE tenant_custom.products DROP COLUMN color")
        .await
        .unwrap();
    assert_eq!(f.get("products", "select=id,color").await.status, 400);
}

#[tokio::test]
async fn the_version_constant_follows_every_ddl_command_in_every_session() {
    let f = Fixture::new("managed version").await;
    let superuser = support::workspace_superuser(&f.ws).await;
    let (constant, table) = versions(&superuser).await;
    assert_eq!(constant, table, "in step from the start");
    // Another session holds a prepared statement long enough for a generic plan, the
    // way the Data API's pooled connections do.
    let other = support::try_connect(&f.ws.reveal("runtime", false).await)
        .await
        .unwrap();
    let prepared = other
        .prepare("SELECT dl_meta.schema_version() AS v WHERE $1::int > 0")
        .await
        .unwrap();
    for _ in 0..6 {
        let row = other.query_one(&prepared, &[&1i32]).await.unwrap();
        assert_eq!(row.get::<_, i64>(0), table);
    }
    // Two commands in one transaction count twice; the trigger's own replacement of
    // the function does not count.
    f.db.batch_execute(
        "CREATE TABLE tenant_custom.versioned (id int); \
         ALTER TABLE tenant_custom.versioned ADD COLUMN b int",
    )
    .await
    .unwrap();
    let (constant, after) = versions(&superuser).await;
    assert_eq!(after, table + 2);
    assert_eq!(constant, after);
    let row = other.query_one(&prepared, &[&1i32]).await.unwrap();
    assert_eq!(
        row.get::<_, i64>(0),
        after,
        "the cached plan was invalidated"
    );
}

#[tokio::test]
async fn a_workspace_at_managed_version_1_gets_the_constant_in_step_with_the_table() {
    let f = Fixture::new("managed upgrade").await;
    let superuser = support::workspace_superuser(&f.ws).await;
    // Back to version 1, with its event trigger installed and DDL counted since.
    superuser
        .batch_execute(
            "CREATE OR REPLACE FUNCTION dl_meta.bump_schema_version() RETURNS event_trigger
             LANGUAGE plpgsql SECURITY DEFINER SET search_path = pg_catalog AS $$
             BEGIN
                 UPDATE dl_meta.schema_state SET version = version + 1;
             END $$;
             DROP FUNCTION dl_meta.schema_version();
             DELETE FROM dl_meta.schema_migrations WHERE version = 2;
             CREATE TABLE tenant_custom.before_upgrade (id int);",
        )
        .await
        .unwrap();
    let applied = plinth::tenant::provision::managed::upgrade(&superuser)
        .await
        .unwrap();
    assert_eq!(applied, vec![2]);
    let (constant, table) = versions(&superuser).await;
    assert_eq!(constant, table);
    superuser
        .batch_execute("DROP TABLE tenant_custom.before_upgrade")
        .await
        .unwrap();
    assert_eq!(versions(&superuser).await, (table + 1, table + 1));
    // The Data API reads through it from now on.
    assert_eq!(f.get("products", "select=id&id=eq.1").await.status, 200);
}

#[tokio::test]
async fn a_workspace_at_managed_version_2_gets_its_tables_tracked() {
    let f = Fixture::new("managed upgrade 3").await;
    let superuser = support::workspace_superuser(&f.ws).await;
    let tracked = || async {
        superuser
            .query_one(
                "SELECT count(*) FROM pg_trigger
                 WHERE tgname = 'plinth_table_changes'
                   AND tgrelid = 'tenant_custom.products'::regclass",
                &[],
            )
            .await
            .unwrap()
            .get::<_, i64>(0)
    };
    assert_eq!(tracked().await, 1, "tables created by a workspace role");
    // Back to version 2: no counters, no tracking triggers.
    superuser
        .batch_execute(
            "DROP FUNCTION dl_meta.track_table_changes(regclass);
             DROP FUNCTION dl_meta.note_table_change() CASCADE;
             DROP TABLE dl_meta.table_changes;
             DELETE FROM dl_meta.schema_migrations WHERE version = 3;",
        )
        .await
        .unwrap();
    assert_eq!(tracked().await, 0);
    let query = "select=id&category=eq.accessories";
    let total = |resp: support::Resp| resp.body["pagination"]["total"].clone();
    assert_eq!(total(f.get("products", query).await), 3, "counted");
    let applied = plinth::tenant::provision::managed::upgrade(&superuser)
        .await
        .unwrap();
    assert_eq!(applied, vec![3]);
    assert_eq!(tracked().await, 1);
    assert_eq!(total(f.get("products", query).await), 3);
    f.db.batch_execute(
        "INSERT INTO tenant_custom.products (id, name, category) VALUES (50, 'Hook', 'accessories')",
    )
    .await
    .unwrap();
    assert_eq!(total(f.get("products", query).await), 4);
}

/// `dl_meta.schema_version()` and `dl_meta.schema_state.version`, read together.
async fn versions(db: &tokio_postgres::Client) -> (i64, i64) {
    let row = db
        .query_one(
            "SELECT dl_meta.schema_version(), version FROM dl_meta.schema_state",
            &[],
        )
        .await
        .unwrap();
    (row.get(0), row.get(1))
}
