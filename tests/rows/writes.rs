//! Inserts (single and batch, all or nothing), updates and deletes with filters,
//! upserts, and single-row operations by primary key.

use serde_json::json;

use super::{ids, key, Fixture};

#[tokio::test]
async fn a_single_insert_returns_the_row_with_its_defaults() {
    let f = Fixture::new("insert one").await;
    let resp = f
        .writer(&key())
        .post(
            &f.path("customers", ""),
            json!({ "id": 10, "name": "New Person" }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body["inserted"], 1);
    assert_eq!(
        resp.body["data"],
        json!([{ "id": 10, "name": "New Person", "email": null, "tier": null, "data": null, "created_at": "2024-01-01T00:00:00+00:00" }])
    );
    let resp = f
        .writer(&key())
        .post(&f.path("events", "select=kind"), json!({}))
        .await;
    assert_eq!(
        resp.status, 201,
        "an empty object takes every default: {}",
        resp.body
    );
    assert_eq!(resp.body["data"], json!([{ "kind": "note" }]));
    let resp = f
        .writer(&key())
        .post(
            &f.path("events", "select=id,kind"),
            json!({ "kind": "made" }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body["data"][0]["kind"], "made");
    assert!(resp.body["data"][0]["id"].as_i64().unwrap() >= 1);
}

#[tokio::test]
async fn a_batch_is_one_statement_all_or_nothing() {
    let f = Fixture::new("insert batch").await;
    let rows: Vec<_> = (100..110)
        .map(|i| json!({ "id": i, "name": format!("P{i}"), "price": 1.5, "category": "bulk" }))
        .collect();
    let resp = f
        .writer(&key())
        .post(&f.path("products", "select=id"), json!(rows))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body["inserted"], 10);
    let mut bad: Vec<_> = (200..205)
        .map(|i| json!({ "id": i, "name": format!("P{i}"), "price": 1, "category": "bad" }))
        .collect();
    bad.push(json!({ "id": 205, "name": "negative", "price": -1, "category": "bad" }));
    let resp = f
        .writer(&key())
        .post(&f.path("products", ""), json!(bad))
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.code(), "check_violation");
    assert!(
        f.ids("products", "category=eq.bad").await.is_empty(),
        "nothing of the batch was written"
    );
    let resp = f
        .writer(&key())
        .post(
            &f.path("products", ""),
            json!([{ "id": 300, "name": "a" }, { "id": 301 }]),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("other keys"));
}

#[tokio::test]
async fn return_minimal_answers_the_count_and_still_writes_every_row() {
    let f = Fixture::new("insert minimal").await;
    let rows: Vec<_> = (400..450)
        .map(|i| json!({ "id": i, "name": format!("P{i}"), "price": 2.5, "category": "minimal" }))
        .collect();
    let resp = f
        .writer(&key())
        .with_header("Prefer", "return=minimal")
        .post(&f.path("products", ""), json!(rows))
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body, json!({ "inserted": 50 }));
    assert_eq!(
        f.ids("products", "category=eq.minimal&order=id&limit=100")
            .await,
        (400..450).collect::<Vec<i64>>()
    );
}

#[tokio::test]
async fn patch_and_delete_use_the_same_filters_and_report_counts() {
    let f = Fixture::new("patch delete").await;
    let resp = f
        .writer(&key())
        .patch(
            &f.path("products", "category=eq.accessories&price=lt.50"),
            json!({ "price": 9.99 }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body, json!({ "updated": 2 }));
    assert_eq!(
        f.ids("products", "price=eq.9.99&order=id").await,
        vec![2, 3]
    );
    let resp = f
        .writer(&key())
        .with_header("Prefer", "return=representation")
        .patch(
            &f.path("products", "select=id,stock&id=eq.6"),
            json!({ "stock": 7 }),
        )
        .await;
    assert_eq!(
        resp.body,
        json!({ "data": [{ "id": 6, "stock": 7 }], "updated": 1 })
    );
    let resp = f
        .writer(&key())
        .send(
            reqwest::Method::DELETE,
            &f.path("order_items", "qty=gt.1"),
            None,
        )
        .await;
    assert_eq!(resp.body, json!({ "deleted": 1 }));
}

#[tokio::test]
async fn a_patch_or_delete_without_filters_needs_an_explicit_whole_table() {
    let f = Fixture::new("whole table").await;
    let resp = f
        .writer(&key())
        .patch(&f.path("products", ""), json!({ "stock": 1 }))
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "filter_required");
    let resp = f.writer(&key()).delete(&f.path("order_items", "")).await;
    assert_eq!(resp.status, 400);
    let resp = f
        .writer(&key())
        .with_header("Prefer", "whole-table")
        .patch(&f.path("products", ""), json!({ "stock": 1 }))
        .await;
    assert_eq!(resp.body["updated"], 6);
    let resp = f
        .writer(&key())
        .with_header("Prefer", "whole-table")
        .delete(&f.path("order_items", ""))
        .await;
    assert_eq!(resp.body["deleted"], 5);
}

#[tokio::test]
async fn upserts_merge_or_ignore_duplicates() {
    let f = Fixture::new("upsert").await;
    let body = json!([{ "id": 1, "name": "Headphones v2", "price": 69.00 }, { "id": 50, "name": "Fresh", "price": 1 }]);
    let resp = f
        .writer(&key())
        .with_header("Prefer", "resolution=merge-duplicates")
        .post(&f.path("products", "select=id,name,price"), body.clone())
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body["inserted"], 2);
    let row = f
        .get("products", "select=name,price,category&id=eq.1")
        .await;
    assert_eq!(
        row.body["data"],
        json!([{ "name": "Headphones v2", "price": 69.00, "category": "electronics" }])
    );

    let resp = f
        .writer(&key())
        .with_header("Prefer", "resolution=ignore-duplicates")
        .post(
            &f.path("customers", "on_conflict=email"),
            json!({ "id": 99, "name": "Dup", "email": "jane@acme.com" }),
        )
        .await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(resp.body["inserted"], 0);
    let resp = f
        .writer(&key())
        .post(
            &f.path("customers", ""),
            json!({ "id": 99, "name": "Dup", "email": "jane@acme.com" }),
        )
        .await;
    assert_eq!(
        resp.status, 409,
        "without a resolution the duplicate conflicts"
    );
}

#[tokio::test]
async fn single_rows_are_addressed_by_primary_key() {
    let f = Fixture::new("single rows").await;
    let resp = f.api.get(&f.path("customers/2", "select=id,name")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body,
        json!({ "data": { "id": 2, "name": "John Roe" } })
    );
    assert_eq!(f.api.get(&f.path("customers/999", "")).await.status, 404);
    let resp = f
        .writer(&key())
        .patch(
            &f.path("customers/2", "select=tier"),
            json!({ "tier": "gold" }),
        )
        .await;
    assert_eq!(
        resp.body,
        json!({ "data": { "tier": "gold" }, "updated": 1 })
    );
    assert_eq!(
        f.writer(&key())
            .patch(&f.path("customers/999", ""), json!({ "tier": "x" }))
            .await
            .status,
        404
    );
    let resp = f
        .writer(&key())
        .delete(&f.path("order_items", "order_id=eq.4"))
        .await;
    assert_eq!(resp.body["deleted"], 1);
    let resp = f.writer(&key()).delete(&f.path("orders/4", "")).await;
    assert_eq!(resp.body, json!({ "deleted": 1 }));
    assert_eq!(
        f.writer(&key())
            .delete(&f.path("orders/4", ""))
            .await
            .status,
        404
    );
    let resp = f.api.get(&f.path("order_items/1", "")).await;
    assert_eq!(
        resp.status, 400,
        "composite keys cannot be addressed by one value"
    );
    assert!(resp.message().contains("single-column primary key"));
    assert_eq!(
        ids(&f.get("orders", "order=id").await.body["data"]),
        vec![1, 2, 3]
    );
}
