//! Relations embedded through foreign keys, both directions, nested, filtered,
//! `!inner`, and hints for ambiguous relationships.

use serde_json::json;

use super::{ids, Fixture};

#[tokio::test]
async fn a_many_to_one_relation_embeds_as_an_object() {
    let f = Fixture::new("embed m2o").await;
    let resp = f
        .get(
            "orders",
            "select=id,total,customer:customers(name,email)&order=id",
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body["data"],
        json!([
            { "id": 1, "total": 198.95, "customer": { "name": "Jane Doe", "email": "jane@acme.com" } },
            { "id": 2, "total": 12.99, "customer": { "name": "Jane Doe", "email": "jane@acme.com" } },
            { "id": 3, "total": 399.00, "customer": { "name": "John Roe", "email": "john@acme.com" } },
            { "id": 4, "total": 19.99, "customer": null }
        ])
    );
}

#[tokio::test]
async fn a_one_to_many_relation_embeds_as_an_array_and_nests() {
    let f = Fixture::new("embed o2m").await;
    let resp = f
        .get(
            "customers",
            "select=id,orders(id,order_items(qty,products(name)))&id=in.(1,3)&order=id&orders.order=id",
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body["data"],
        json!([
            { "id": 1, "orders": [
                { "id": 1, "order_items": [
                    { "qty": 1, "products": { "name": "Wireless Headphones" } },
                    { "qty": 2, "products": { "name": "USB-C Cable" } } ] },
                { "id": 2, "order_items": [ { "qty": 1, "products": { "name": "USB-C Cable" } } ] }
            ] },
            { "id": 3, "orders": [] }
        ])
    );
}

#[tokio::test]
async fn filters_on_an_embedding_filter_the_embedded_rows_only() {
    let f = Fixture::new("embed filter").await;
    let resp = f
        .get(
            "customers",
            "select=id,orders(id)&orders.status=eq.paid&id=in.(1,2,3)&order=id",
        )
        .await;
    assert_eq!(
        resp.body["data"],
        json!([
            { "id": 1, "orders": [ { "id": 1 } ] },
            { "id": 2, "orders": [ { "id": 3 } ] },
            { "id": 3, "orders": [] }
        ])
    );
    let resp = f
        .get(
            "orders",
            "select=id,customers(name)&customers.tier=eq.gold&order=id",
        )
        .await;
    assert_eq!(resp.body["data"][2], json!({ "id": 3, "customers": null }));
}

#[tokio::test]
async fn inner_embedding_drops_parents_without_a_matching_child() {
    let f = Fixture::new("embed inner").await;
    assert_eq!(
        f.ids(
            "customers",
            "select=id,orders!inner(id)&orders.status=eq.paid&order=id"
        )
        .await,
        vec![1, 2]
    );
    assert_eq!(
        f.ids(
            "orders",
            "select=id,customers!inner(id)&customers.tier=eq.gold&order=id"
        )
        .await,
        vec![1, 2]
    );
}

#[tokio::test]
async fn two_relationships_need_a_hint_and_the_error_lists_them() {
    let f = Fixture::new("embed ambiguous").await;
    let resp = f.get("transfers", "select=id,customers(name)").await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "ambiguous_embedding");
    let candidates = resp.body["error"]["details"]["candidates"]
        .as_array()
        .unwrap();
    assert_eq!(candidates.len(), 2);
    assert!(candidates
        .iter()
        .any(|c| c.as_str().unwrap().contains("transfers_sender_fk")));

    let resp = f
        .get(
            "transfers",
            "select=id,sender:customers!transfers_sender_fk(name),receiver:customers!receiver_id(name)&order=id",
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(
        resp.body["data"][0],
        json!({ "id": 1, "sender": { "name": "Jane Doe" }, "receiver": { "name": "John Roe" } })
    );
}

#[tokio::test]
async fn embedding_an_unrelated_or_unknown_table_is_a_clear_400() {
    let f = Fixture::new("embed unrelated").await;
    let resp = f.get("products", "select=id,customers(name)").await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("no relationship"), "{}", resp.body);
    let resp = f.get("orders", "select=id,customerz(name)").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.body["error"]["hint"], "did you mean `customers`?");
    let resp = f.get("orders", "select=id&customers.name=eq.x").await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("not embedded"));
    assert_eq!(
        ids(&f.get("orders", "select=id&order=id&limit=1").await.body["data"]),
        vec![1]
    );
}
