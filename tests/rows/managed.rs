//! The managed relations: `dl_resolved.*` read-only, `dl_override.*` writable, and
//! the schema cache following DDL made directly.

use serde_json::json;

use super::{key, Fixture};

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
    f.db.batch_execute("CREATE TABLE tenant_custom.brand_new (id int PRIMARY KEY); INSERT INTO tenant_custom.brand_new VALUES (7)")
        .await
        .unwrap();
    assert_eq!(f.ids("brand_new", "").await, vec![7]);
    f.db.batch_execute("ALTER TABLE tenant_custom.products DROP COLUMN color")
        .await
        .unwrap();
    assert_eq!(f.get("products", "select=id,color").await.status, 400);
}
