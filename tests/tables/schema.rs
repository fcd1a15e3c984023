//! List, get with the live schema, delete; 404s; the catalog as the source of truth.

use serde_json::json;

use super::{column_names, Tables};
use crate::support;

/// A superuser connection to the workspace database, for DDL made outside Plinth.
pub async fn superuser(t: &Tables) -> tokio_postgres::Client {
    support::workspace_superuser(&t.ws).await
}

#[tokio::test]
async fn list_is_newest_first_and_get_shows_the_registry_entry() {
    let t = Tables::new("tables list").await;
    let mut ids = Vec::new();
    for name in ["first", "second", "third"] {
        ids.push(
            t.create_ok(json!({"table_name": name, "columns": [{"name": "a", "type": "text"}]}))
                .await,
        );
    }
    let list = t.api.get(&format!("/v1/{}/tables", t.ws.id)).await;
    assert_eq!(list.status, 200, "{}", list.body);
    let names: Vec<&str> = list.body["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["table_name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["third", "second", "first"]);
    for item in list.body["items"].as_array().unwrap() {
        for key in [
            "id",
            "workspace_id",
            "table_name",
            "physical_name",
            "created_at",
        ] {
            assert!(!item[key].is_null(), "{key} in {item}");
        }
    }
    let got = t.get(&ids[0]).await;
    assert_eq!(got.status, 200);
    assert_eq!(got.body["table_name"], "first");
    assert_eq!(got.body["id"], ids[0].as_str());
}

#[tokio::test]
async fn the_live_schema_follows_ddl_made_outside_plinth() {
    let t = Tables::new("tables live").await;
    let id = t
        .create_ok(json!({"table_name": "live", "columns": [{"name": "a", "type": "text"}]}))
        .await;
    let physical = t.get(&id).await.body["physical_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let db = superuser(&t).await;
    db.batch_execute(&format!(
        "ALTER TABLE workspace_tables.{physical} ADD COLUMN added integer NOT NULL DEFAULT 42;
         CREATE INDEX by_hand ON workspace_tables.{physical} (added);
         ALTER TABLE workspace_tables.{physical} ADD CONSTRAINT positive CHECK (added > 0);"
    ))
    .await
    .unwrap();
    let got = t.get(&id).await;
    assert_eq!(column_names(&got.body), ["a", "added"]);
    let added = &got.body["columns"][1];
    assert_eq!(added["data_type"], "integer");
    assert_eq!(added["is_nullable"], false);
    assert_eq!(added["default"], "42");
    let index = got.body["indexes"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["name"] == "by_hand")
        .unwrap_or_else(|| panic!("{}", got.body));
    assert!(index["definition"]
        .as_str()
        .unwrap()
        .starts_with("CREATE INDEX by_hand"));
    let check = got.body["constraints"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "positive")
        .unwrap_or_else(|| panic!("{}", got.body));
    assert_eq!(check["definition"], "CHECK ((added > 0))");
    // The Data API sees the new column on its next request too.
    let rows = t
        .api
        .with_header("Idempotency-Key", "live-1")
        .post(
            &format!("/v1/postgres/{}/rows/live", t.ws.id),
            json!({"a": "x"}),
        )
        .await;
    assert_eq!(rows.status, 201, "{}", rows.body);
    assert_eq!(rows.body["data"][0]["added"], 42, "{}", rows.body);
}

#[tokio::test]
async fn delete_drops_and_deregisters_and_unknown_ids_are_404() {
    let t = Tables::new("tables delete").await;
    let id = t
        .create_ok(json!({"table_name": "gone", "columns": [{"name": "a", "type": "text"}]}))
        .await;
    let physical = t.get(&id).await.body["physical_name"]
        .as_str()
        .unwrap()
        .to_owned();
    let path = format!("/v1/{}/tables/{id}", t.ws.id);
    let resp = t.api.delete(&path).await;
    assert_eq!(resp.status, 204, "{}", resp.body);
    assert_eq!(t.api.delete(&path).await.status, 404);
    assert_eq!(t.get(&id).await.status, 404);
    let exists: Option<String> = superuser(&t)
        .await
        .query_one(
            "SELECT to_regclass($1)::text",
            &[&format!("workspace_tables.{physical}")],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(exists, None);
    // The name is free again.
    t.create_ok(json!({"table_name": "gone", "columns": [{"name": "a", "type": "text"}]}))
        .await;
    for missing in [uuid_like(), "not-a-uuid".to_owned()] {
        assert_eq!(t.get(&missing).await.status, 404);
        assert_eq!(
            t.alter(&missing, json!([{"op": "drop_column", "name": "a"}]))
                .await
                .status,
            404
        );
        assert_eq!(
            t.api
                .delete(&format!("/v1/{}/tables/{missing}", t.ws.id))
                .await
                .status,
            404
        );
    }
}

#[tokio::test]
async fn a_table_dropped_by_hand_is_404_and_its_entry_can_be_deleted() {
    let t = Tables::new("tables dropped by hand").await;
    let id = t
        .create_ok(json!({"table_name": "fragile", "columns": [{"name": "a", "type": "text"}]}))
        .await;
    let physical = t.get(&id).await.body["physical_name"]
        .as_str()
        .unwrap()
        .to_owned();
    superuser(&t)
        .await
        .batch_execute(&format!("DROP TABLE workspace_tables.{physical}"))
        .await
        .unwrap();
    let got = t.get(&id).await;
    assert_eq!(got.status, 404, "{}", got.body);
    assert!(got.message().contains("outside Plinth"), "{}", got.body);
    let resp = t.api.delete(&format!("/v1/{}/tables/{id}", t.ws.id)).await;
    assert_eq!(resp.status, 204, "{}", resp.body);
}

fn uuid_like() -> String {
    "00000000-0000-4000-8000-000000000000".to_owned()
}
