//! Alter: each of the eleven actions, and a failing batch that changes nothing.

use serde_json::{json, Value};

use super::{column, column_names, Tables};

async fn table(t: &Tables) -> String {
    t.create_ok(json!({
        "table_name": "items",
        "columns": [
            {"name": "id", "type": "bigint", "nullable": false},
            {"name": "name", "type": "text"},
            {"name": "qty", "type": "text"},
        ],
        "primary_key": ["id"],
    }))
    .await
}

fn names(list: &Value) -> Vec<String> {
    list.as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn every_action_applies_and_the_registry_and_data_api_follow() {
    let t = Tables::new("tables alter").await;
    let id = table(&t).await;
    t.query_ok("INSERT INTO items (id, name, qty) VALUES (1, 'a', '5'), (2, 'b', '7')")
        .await;
    let created = t.get(&id).await.body;

    let resp = t
        .alter(
            &id,
            json!([
                {"op": "add_column", "column": {"name": "price", "type": "numeric", "default": {"kind": "literal", "value": "9.50"}}},
                {"op": "rename_column", "from": "name", "to": "title"},
                {"op": "change_column_type", "name": "qty", "new_type": "int"},
                {"op": "set_column_nullable", "name": "title", "nullable": false},
                {"op": "set_column_default", "name": "title", "default": {"kind": "literal", "value": "untitled"}},
                {"op": "add_unique", "columns": ["title"], "constraint_name": "items_title_unique"},
                {"op": "add_index", "index_name": "items_by_qty", "columns": ["qty", "price"]},
            ]),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["id"], id.as_str());
    assert_eq!(resp.body["table_name"], "items");
    assert_eq!(resp.body["physical_name"], created["physical_name"]);
    assert!(resp.body["updated_at"].as_str() > created["updated_at"].as_str());

    let live = t.get(&id).await.body;
    assert_eq!(column_names(&live), ["id", "title", "qty", "price"]);
    assert_eq!(column(&live, "qty")["data_type"], "integer");
    assert_eq!(column(&live, "title")["is_nullable"], false);
    assert_eq!(column(&live, "title")["default"], "'untitled'::text");
    assert_eq!(column(&live, "price")["default"], "9.50");
    assert!(names(&live["constraints"]).contains(&"items_title_unique".to_owned()));
    assert!(names(&live["indexes"]).contains(&"items_by_qty".to_owned()));

    // The Data API serves the new shape in the very next request.
    let rows = t
        .api
        .get(&format!(
            "/v1/postgres/{}/rows/items?select=id,title,qty,price&order=id",
            t.ws.id
        ))
        .await;
    assert_eq!(rows.status, 200, "{}", rows.body);
    assert_eq!(
        rows.body["data"],
        json!([{"id": 1, "title": "a", "qty": 5, "price": 9.50}, {"id": 2, "title": "b", "qty": 7, "price": 9.50}])
    );

    let resp = t
        .alter(
            &id,
            json!([
                {"op": "drop_index", "index_name": "items_by_qty"},
                {"op": "drop_constraint", "name": "items_title_unique"},
                {"op": "drop_column_default", "name": "title"},
                {"op": "set_column_default", "name": "price", "default": {"kind": "literal", "value": null}},
                {"op": "drop_column", "name": "qty"},
                {"op": "set_column_nullable", "name": "title", "nullable": true},
            ]),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let live = t.get(&id).await.body;
    assert_eq!(column_names(&live), ["id", "title", "price"]);
    assert_eq!(column(&live, "title")["default"], Value::Null);
    assert_eq!(column(&live, "title")["is_nullable"], true);
    assert!(!names(&live["constraints"]).contains(&"items_title_unique".to_owned()));
    assert!(!names(&live["indexes"]).contains(&"items_by_qty".to_owned()));
    let rows = t
        .api
        .get(&format!("/v1/postgres/{}/rows/items?select=qty", t.ws.id))
        .await;
    assert_eq!(
        rows.status, 400,
        "a dropped column is gone from the Data API: {}",
        rows.body
    );
}

#[tokio::test]
async fn a_failing_action_rolls_back_the_whole_batch_and_is_named() {
    let t = Tables::new("tables alter rollback").await;
    let id = table(&t).await;
    t.query_ok("INSERT INTO items (id, name, qty) VALUES (1, 'a', 'not a number')")
        .await;
    let before = t.get(&id).await.body;
    let cases = [
        (
            json!({"op": "drop_column", "name": "nope"}),
            "drop_column",
            "nope",
        ),
        (
            json!({"op": "change_column_type", "name": "qty", "new_type": "int"}),
            "change_column_type",
            "integer",
        ),
        (
            json!({"op": "rename_column", "from": "name", "to": "id"}),
            "rename_column",
            "already exists",
        ),
        (
            json!({"op": "drop_index", "index_name": "no_such_index"}),
            "drop_index",
            "no_such_index",
        ),
        (
            json!({"op": "drop_constraint", "name": "no_such_constraint"}),
            "drop_constraint",
            "no_such_constraint",
        ),
        (
            json!({"op": "set_column_default", "name": "id", "default": {"kind": "literal", "value": "x"}}),
            "set_column_default",
            "integer",
        ),
        (
            json!({"op": "set_column_default", "name": "ghost", "default": {"kind": "now"}}),
            "set_column_default",
            "ghost",
        ),
        (
            json!({"op": "add_column", "column": {"name": "id", "type": "text"}}),
            "add_column",
            "already exists",
        ),
        (
            json!({"op": "set_column_nullable", "name": "name", "nullable": false}),
            "set_column_nullable",
            "",
        ),
    ];
    for (failing, op, reason) in cases {
        // Make `name` hold a null for the NOT NULL case.
        t.query_ok("UPDATE items SET name = NULL").await;
        let resp = t
            .alter(
                &id,
                json!([
                    {"op": "add_column", "column": {"name": "extra", "type": "int"}},
                    {"op": "add_index", "index_name": "extra_idx", "columns": ["extra"]},
                    failing,
                    {"op": "rename_column", "from": "name", "to": "label"},
                ]),
            )
            .await;
        assert_eq!(resp.status, 400, "{failing}: {}", resp.body);
        assert_eq!(resp.code(), "alter_failed", "{}", resp.body);
        assert_eq!(resp.body["error"]["details"]["action"], 2, "{}", resp.body);
        assert_eq!(resp.body["error"]["details"]["op"], op, "{}", resp.body);
        assert!(resp.message().contains(reason), "{failing}: {}", resp.body);
        let after = t.get(&id).await.body;
        assert_eq!(after["columns"], before["columns"], "{failing}");
        assert_eq!(after["indexes"], before["indexes"], "{failing}");
        assert_eq!(after["constraints"], before["constraints"], "{failing}");
    }
}

#[tokio::test]
async fn alter_requests_are_validated_before_running() {
    let t = Tables::new("tables alter rules").await;
    let id = table(&t).await;
    let too_many: Vec<Value> = (0..51)
        .map(|i| json!({"op": "add_column", "column": {"name": format!("c{i}"), "type": "int"}}))
        .collect();
    let cases = [
        (json!([]), "actions"),
        (Value::Array(too_many), "actions"),
        (
            json!([{"op": "rename_column", "from": "name", "to": "Bad"}]),
            "actions[0].to",
        ),
        (
            json!([{"op": "change_column_type", "name": "qty", "new_type": "money"}]),
            "actions[0].new_type",
        ),
        (
            json!([{"op": "add_index", "index_name": "x", "columns": []}]),
            "actions[0].columns",
        ),
        (
            json!([{"op": "add_unique", "columns": ["name"], "constraint_name": "Bad Name"}]),
            "actions[0].constraint_name",
        ),
        (
            json!([{"op": "add_column", "column": {"name": "z", "type": "float"}}]),
            "actions[0].column.type",
        ),
        (
            json!([{"op": "set_column_default", "name": "name", "default": {"kind": "later"}}]),
            "actions[0].default.kind",
        ),
    ];
    for (actions, field) in cases {
        let resp = t.alter(&id, actions.clone()).await;
        assert_eq!(resp.status, 400, "{actions}: {}", resp.body);
        let violations = resp.body["error"]["details"]["violations"]
            .as_array()
            .unwrap();
        assert!(
            violations.iter().any(|v| v["field"] == field),
            "{field}: {}",
            resp.body
        );
    }
    let resp = t.alter(&id, json!([{"op": "explode"}])).await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert!(resp.message().contains("explode"), "{}", resp.body);
}
