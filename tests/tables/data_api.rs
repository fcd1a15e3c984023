//! A table created through Workspace Tables is served by the Data API at once.

use serde_json::json;

use super::Tables;

#[tokio::test]
async fn a_new_table_is_read_and_written_through_the_data_api_in_the_next_request() {
    let t = Tables::new("tables data api").await;
    let id = t
        .create_ok(json!({
            "table_name": "tasks",
            "columns": [
                {"name": "id", "type": "uuid", "nullable": false, "default": {"kind": "uuid_v4"}},
                {"name": "title", "type": "text", "nullable": false},
                {"name": "done", "type": "boolean", "nullable": false, "default": {"kind": "literal", "value": false}},
                {"name": "due", "type": "date"},
            ],
            "primary_key": ["id"],
            "indexes": [{"columns": ["due"]}],
        }))
        .await;
    let rows = format!("/v1/postgres/{}/rows/tasks", t.ws.id);
    let resp = t
        .api
        .with_header("Idempotency-Key", "tasks-1")
        .post(
            &rows,
            json!([{"title": "write tests", "due": "2026-12-01"}, {"title": "ship", "due": null}]),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body["inserted"], 2);
    let first = resp.body["data"][0]["id"].as_str().unwrap().to_owned();
    assert_eq!(resp.body["data"][0]["done"], false);

    let resp = t
        .api
        .get(&format!("{rows}?done=is.false&order=title"))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["pagination"]["total"], 2);

    let resp = t
        .api
        .with_header("Idempotency-Key", "tasks-2")
        .patch(&format!("{rows}/{first}"), json!({"done": true}))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = t
        .api
        .get(&format!("{rows}?done=is.true&select=title"))
        .await;
    assert_eq!(resp.body["data"], json!([{"title": "write tests"}]));

    // The scoped query sees the same rows under the workspace-facing name.
    let body = t
        .query_ok("SELECT count(*) AS n FROM tasks WHERE done")
        .await;
    assert_eq!(body["rows"], json!([{"n": "1"}]));

    // Dropped: gone from the Data API at once.
    let resp = t.api.delete(&format!("/v1/{}/tables/{id}", t.ws.id)).await;
    assert_eq!(resp.status, 204);
    let resp = t.api.get(&rows).await;
    assert_eq!(resp.status, 404, "{}", resp.body);
}
