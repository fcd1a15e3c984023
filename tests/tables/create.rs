//! Create: every rule of the seed, checked before anything reaches the database.

use serde_json::{json, Value};

use super::{column, Tables};

fn col(name: &str, ty: &str) -> Value {
    json!({ "name": name, "type": ty })
}

#[tokio::test]
async fn a_table_is_created_with_every_type_default_and_constraint() {
    let t = Tables::new("tables create").await;
    let types = [
        "text",
        "int",
        "bigint",
        "numeric",
        "boolean",
        "uuid",
        "timestamptz",
        "date",
        "time",
        "jsonb",
        "bytea",
    ];
    let mut columns: Vec<Value> = types.iter().map(|ty| col(&format!("c_{ty}"), ty)).collect();
    columns.insert(
        0,
        json!({"name": "id", "type": "uuid", "nullable": false, "default": {"kind": "uuid_v4"}}),
    );
    columns.push(json!({"name": "created", "type": "timestamptz", "default": {"kind": "now"}}));
    columns.push(json!({"name": "day", "type": "date", "default": {"kind": "current_date"}}));
    columns.push(json!({"name": "status", "type": "text", "nullable": false,
        "default": {"kind": "literal", "value": "it's'); DROP TABLE x; --"}}));
    columns.push(json!({"name": "qty", "type": "int", "default": {"kind": "literal", "value": 7}}));
    columns.push(json!({"name": "big", "type": "bigint", "default": {"kind": "literal", "value": "9007199254740993"}}));
    columns.push(
        json!({"name": "flag", "type": "boolean", "default": {"kind": "literal", "value": true}}),
    );
    columns.push(json!({"name": "meta", "type": "jsonb", "default": {"kind": "literal", "value": {"a": [1, 2]}}}));
    columns.push(
        json!({"name": "maybe", "type": "text", "default": {"kind": "literal", "value": null}}),
    );
    let resp = t
        .create(json!({
            "table_name": "everything",
            "columns": columns,
            "primary_key": ["id"],
            "unique": [["c_text"], ["c_int", "c_date"]],
            "indexes": [{"columns": ["c_bigint"]}, {"columns": ["c_numeric", "c_uuid"]}],
        }))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    let body = &resp.body;
    assert_eq!(body["table_name"], "everything");
    assert_eq!(body["workspace_id"], t.ws.id.as_str());
    let physical = body["physical_name"].as_str().unwrap();
    assert_ne!(physical, "everything");
    assert!(physical.starts_with("wt_"), "{physical}");
    assert!(body["created_at"].is_string());

    let id = body["id"].as_str().unwrap();
    let table = t.get(id).await;
    assert_eq!(table.status, 200, "{}", table.body);
    assert_eq!(
        column(&table.body, "c_timestamptz")["data_type"],
        "timestamp with time zone"
    );
    assert_eq!(column(&table.body, "c_int")["data_type"], "integer");
    assert_eq!(column(&table.body, "id")["is_nullable"], false);
    assert_eq!(column(&table.body, "c_text")["is_nullable"], true);
    assert_eq!(column(&table.body, "id")["default"], "gen_random_uuid()");
    assert_eq!(
        table.body["constraints"].as_array().unwrap().len(),
        3,
        "{}",
        table.body
    );
    assert_eq!(
        table.body["indexes"].as_array().unwrap().len(),
        5,
        "{}",
        table.body
    );

    // The defaults work, and the hostile literal is just text.
    let inserted = t
        .query_ok("INSERT INTO everything (c_text) VALUES ('a') RETURNING *")
        .await;
    let row = &inserted["rows"][0];
    assert_eq!(row["status"], "it's'); DROP TABLE x; --");
    assert_eq!(row["qty"], 7);
    assert_eq!(row["big"], "9007199254740993");
    assert_eq!(row["flag"], true);
    assert_eq!(row["meta"], json!({"a": [1, 2]}));
    assert_eq!(row["maybe"], Value::Null);
    assert_eq!(row["id"].as_str().unwrap().len(), 36);
    assert!(row["created"].is_string());
    assert!(row["day"].is_string());
}

#[tokio::test]
async fn a_duplicate_name_is_409_and_names_are_per_workspace() {
    let t = Tables::new("tables duplicate").await;
    let other = Tables::new("tables duplicate other").await;
    let spec = json!({"table_name": "dup", "columns": [col("a", "text")]});
    t.create_ok(spec.clone()).await;
    let resp = t.create(spec.clone()).await;
    assert_eq!(resp.status, 409, "{}", resp.body);
    assert!(resp.message().contains("dup"), "{}", resp.body);
    other.create_ok(spec).await;
}

/// Each invalid request with the field its error must name.
#[tokio::test]
async fn every_rule_is_checked_with_the_field_and_the_rule() {
    let t = Tables::new("tables rules").await;
    let ok = || col("a", "text");
    let hundred_one: Vec<Value> = (0..101).map(|i| col(&format!("c{i}"), "int")).collect();
    let thirty_three: Vec<Value> = (0..33).map(|i| col(&format!("c{i}"), "int")).collect();
    let names33: Vec<String> = (0..33).map(|i| format!("c{i}")).collect();
    let cases: Vec<(Value, &str, &str)> = vec![
        (
            json!({"table_name": "Bad", "columns": [ok()]}),
            "table_name",
            "must match",
        ),
        (
            json!({"table_name": "1bad", "columns": [ok()]}),
            "table_name",
            "must match",
        ),
        (
            json!({"table_name": "bad-name", "columns": [ok()]}),
            "table_name",
            "must match",
        ),
        (
            json!({"table_name": format!("a{}", "b".repeat(63)), "columns": [ok()]}),
            "table_name",
            "must match",
        ),
        (
            json!({"table_name": "", "columns": [ok()]}),
            "table_name",
            "must match",
        ),
        (
            json!({"table_name": "t", "columns": []}),
            "columns",
            "1 to 100",
        ),
        (
            json!({"table_name": "t", "columns": hundred_one}),
            "columns",
            "1 to 100",
        ),
        (
            json!({"table_name": "t", "columns": [col("A", "text")]}),
            "columns[0].name",
            "must match",
        ),
        (
            json!({"table_name": "t", "columns": [col("a b", "text")]}),
            "columns[0].name",
            "must match",
        ),
        (
            json!({"table_name": "t", "columns": [ok(), col("a", "int")]}),
            "columns[1].name",
            "unique",
        ),
        (
            json!({"table_name": "t", "columns": [col("a", "varchar")]}),
            "columns[0].type",
            "must be one of",
        ),
        (
            json!({"table_name": "t", "columns": [col("a", "integer")]}),
            "columns[0].type",
            "must be one of",
        ),
        (
            json!({"table_name": "t", "columns": [col("a", "text; DROP TABLE x")]}),
            "columns[0].type",
            "must be one of",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "int", "default": {"kind": "sequence"}}]}),
            "columns[0].default.kind",
            "must be one of",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "int", "default": {"kind": "uuid_v4"}}]}),
            "columns[0].default.kind",
            "cannot be the default",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "boolean", "default": {"kind": "now"}}]}),
            "columns[0].default.kind",
            "cannot be the default",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "int", "default": {"kind": "current_date"}}]}),
            "columns[0].default.kind",
            "cannot be the default",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "int", "default": {"kind": "literal", "value": "abc"}}]}),
            "columns[0].default.value",
            "integer",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "int", "default": {"kind": "literal", "value": 1.5}}]}),
            "columns[0].default.value",
            "integer",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "boolean", "default": {"kind": "literal", "value": "yes"}}]}),
            "columns[0].default.value",
            "true or false",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "text", "default": {"kind": "literal", "value": 5}}]}),
            "columns[0].default.value",
            "a string",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "text", "nullable": false, "default": {"kind": "literal", "value": null}}]}),
            "columns[0].default.value",
            "not be null",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "date", "default": {"kind": "literal", "value": "2024-13-45"}}]}),
            "columns[0].default.value",
            "valid date",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "uuid", "default": {"kind": "literal", "value": "not-a-uuid"}}]}),
            "columns[0].default.value",
            "valid uuid",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "int", "default": {"kind": "literal", "value": "99999999999"}}]}),
            "columns[0].default.value",
            "valid integer",
        ),
        (
            json!({"table_name": "t", "columns": [ok()], "primary_key": ["nope"]}),
            "primary_key[0]",
            "must name a column",
        ),
        (
            json!({"table_name": "t", "columns": [ok()], "primary_key": []}),
            "primary_key",
            "at least one",
        ),
        (
            json!({"table_name": "t", "columns": [ok()], "primary_key": ["a", "a"]}),
            "primary_key[1]",
            "must not repeat",
        ),
        (
            json!({"table_name": "t", "columns": [ok()], "unique": [[]]}),
            "unique[0]",
            "1 to 32",
        ),
        (
            json!({"table_name": "t", "columns": thirty_three.clone(), "unique": [names33.clone()]}),
            "unique[0]",
            "1 to 32",
        ),
        (
            json!({"table_name": "t", "columns": [ok()], "unique": [["zz"]]}),
            "unique[0][0]",
            "must name a column",
        ),
        (
            json!({"table_name": "t", "columns": [ok()], "indexes": [{"columns": []}]}),
            "indexes[0].columns",
            "1 to 32",
        ),
        (
            json!({"table_name": "t", "columns": thirty_three, "indexes": [{"columns": names33}]}),
            "indexes[0].columns",
            "1 to 32",
        ),
        (
            json!({"table_name": "t", "columns": [ok()], "indexes": [{"columns": ["zz"]}]}),
            "indexes[0].columns[0]",
            "must name a column",
        ),
    ];
    for (body, field, rule) in cases {
        let resp = t.create(body.clone()).await;
        assert_eq!(resp.status, 400, "{body}: {}", resp.body);
        assert_eq!(resp.code(), "validation_failed", "{body}: {}", resp.body);
        let violations = resp.body["error"]["details"]["violations"]
            .as_array()
            .unwrap();
        assert!(
            violations
                .iter()
                .any(|v| v["field"] == field && v["rule"].as_str().unwrap().contains(rule)),
            "{body}: expected {field} / {rule} in {}",
            resp.body
        );
    }
    // Shape errors (unknown or missing fields, wrong JSON types) name the field too.
    for (body, needle) in [
        (
            json!({"table_name": "t", "columns": [ok()], "colour": 1}),
            "colour",
        ),
        (json!({"columns": [ok()]}), "table_name"),
        (
            json!({"table_name": "t", "columns": [{"name": "a"}]}),
            "type",
        ),
        (
            json!({"table_name": "t", "columns": [{"name": "a", "type": "text", "nullable": "no"}]}),
            "columns[0].nullable",
        ),
    ] {
        let resp = t.create(body.clone()).await;
        assert_eq!(resp.status, 400, "{body}: {}", resp.body);
        assert!(resp.message().contains(needle), "{body}: {}", resp.body);
    }
    // Nothing of any refused request reached the database.
    let list = t.api.get(&format!("/v1/{}/tables", t.ws.id)).await;
    assert_eq!(list.body["items"], json!([]));
}

#[tokio::test]
async fn scopes_guard_every_endpoint() {
    let t = Tables::new("tables scopes").await;
    let id = t
        .create_ok(json!({"table_name": "s", "columns": [col("a", "text")]}))
        .await;
    let viewer = t.ws.key(&["workspace:view"]).await;
    let base = format!("/v1/{}/tables", t.ws.id);
    assert_eq!(viewer.get(&base).await.status, 200);
    assert_eq!(viewer.get(&format!("{base}/{id}")).await.status, 200);
    let denied = [
        viewer
            .post(
                &base,
                json!({"table_name": "x", "columns": [col("a", "text")]}),
            )
            .await,
        viewer
            .patch(
                &format!("{base}/{id}"),
                json!({"actions": [{"op": "drop_column", "name": "a"}]}),
            )
            .await,
        viewer.delete(&format!("{base}/{id}")).await,
        viewer
            .post(
                &format!("/v1/{}/query", t.ws.id),
                json!({"sql": "SELECT 1"}),
            )
            .await,
    ];
    for resp in denied {
        assert_eq!(resp.status, 403, "{}", resp.body);
    }
    let nobody = t.ws.key(&["postgres:read"]).await;
    assert_eq!(nobody.get(&base).await.status, 403);
    assert_eq!(t.api.without_token().get(&base).await.status, 401);
    // Another workspace's key cannot touch this one's tables.
    let stranger = Tables::new("tables scopes stranger").await;
    let resp = stranger.api.get(&format!("{base}/{id}")).await;
    assert_eq!(resp.status, 403, "{}", resp.body);
    let resp = stranger
        .api
        .get(&format!("/v1/{}/tables/{id}", stranger.ws.id))
        .await;
    assert_eq!(resp.status, 404, "{}", resp.body);
}
