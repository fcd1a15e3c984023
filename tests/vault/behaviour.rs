//! One behavioural suite, run against each engine: the same documents, filters,
//! sorts and pages must give the same answers everywhere.

use serde_json::{json, Value};

use super::Vault;

fn products_schema(engine: &str) -> Value {
    json!({
        "name": "products",
        "engine": engine,
        "json_schema": {
            "type": "object",
            "properties": {
                "name": {"type": "string"},
                "price": {"type": "number"},
                "stock": {"type": "integer"},
                "active": {"type": "boolean"},
                "tag": {"type": "string"},
                "dims": {"type": "object", "properties": {"w": {"type": "integer"}}}
            },
            "required": ["name", "price"],
            "x-indexed": ["tag"]
        }
    })
}

async fn seeded(engine: &str) -> Vault {
    let server = match engine {
        "clickhouse" => crate::support::with_clickhouse(),
        _ => crate::support::shared(),
    };
    let v = Vault::on(server, &format!("vault behaviour {engine}")).await;
    v.collection(products_schema(engine)).await;
    for (name, price, stock, active, tag) in [
        ("apple", 1.5, 10, true, Some("fruit")),
        ("banana", 0.5, 0, true, Some("fruit")),
        ("carrot", 0.75, 5, false, Some("veg")),
        ("durian", 12.0, 1, true, None),
        ("eggplant", 2.25, 7, false, Some("veg")),
    ] {
        let mut record = json!({"name": name, "price": price, "stock": stock, "active": active, "dims": {"w": stock * 2}});
        if let Some(tag) = tag {
            record["tag"] = json!(tag);
        }
        v.insert("products", record).await;
    }
    v
}

fn names(resp: &crate::support::Resp) -> Vec<String> {
    resp.body["items"]
        .as_array()
        .unwrap_or_else(|| panic!("{}", resp.body))
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

async fn names_for(v: &Vault, filter: Value) -> Vec<String> {
    let resp = v
        .query("products", json!({"filter": filter, "sort": ["name"]}))
        .await;
    assert_eq!(resp.status, 200, "{filter}: {}", resp.body);
    names(&resp)
}

/// The suite, for one engine.
pub async fn suite(engine: &str) {
    let v = seeded(engine).await;
    // The seed's equality filter, ANDed.
    assert_eq!(
        names_for(&v, json!({"tag": "fruit"})).await,
        ["apple", "banana"]
    );
    assert_eq!(
        names_for(&v, json!({"tag": "veg", "active": false})).await,
        ["carrot", "eggplant"]
    );
    // Comparisons, in, ne, exists, and/or/not.
    assert_eq!(
        names_for(&v, json!({"price": {"$gte": 1.5}})).await,
        ["apple", "durian", "eggplant"]
    );
    assert_eq!(
        names_for(&v, json!({"price": {"$gt": 0.5, "$lt": 2}})).await,
        ["apple", "carrot"]
    );
    assert_eq!(
        names_for(&v, json!({"stock": {"$lte": 1}})).await,
        ["banana", "durian"]
    );
    assert_eq!(
        names_for(
            &v,
            json!({"name": {"$in": ["apple", "durian", "zucchini"]}})
        )
        .await,
        ["apple", "durian"]
    );
    assert_eq!(
        names_for(&v, json!({"tag": {"$ne": "fruit"}})).await,
        ["carrot", "durian", "eggplant"]
    );
    assert_eq!(
        names_for(&v, json!({"tag": {"$exists": false}})).await,
        ["durian"]
    );
    assert_eq!(
        names_for(&v, json!({"tag": {"$exists": true}})).await.len(),
        4
    );
    assert_eq!(
        names_for(&v, json!({"$or": [{"tag": "veg"}, {"price": {"$gt": 10}}]})).await,
        ["carrot", "durian", "eggplant"]
    );
    assert_eq!(
        names_for(&v, json!({"$not": {"active": true}})).await,
        ["carrot", "eggplant"]
    );
    assert_eq!(
        names_for(
            &v,
            json!({"$and": [{"active": true}, {"stock": {"$gt": 0}}]})
        )
        .await,
        ["apple", "durian"]
    );
    assert_eq!(
        names_for(&v, json!({"dims.w": {"$gte": 14}})).await,
        ["apple", "eggplant"]
    );

    // Sort (descending with -), projection, pagination.
    let resp = v
        .query(
            "products",
            json!({"sort": ["-price"], "projection": ["name"], "limit": 2}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(names(&resp), ["durian", "eggplant"]);
    assert_eq!(resp.body["total"], 5);
    assert_eq!(resp.body["has_more"], true);
    assert_eq!(resp.body["next_offset"], 2);
    let item = resp.body["items"][0].as_object().unwrap();
    let mut keys: Vec<&str> = item.keys().map(String::as_str).collect();
    keys.sort();
    assert_eq!(keys, ["_id", "name"]);
    let resp = v
        .query(
            "products",
            json!({"sort": ["-price"], "limit": 2, "offset": 4}),
        )
        .await;
    assert_eq!(names(&resp), ["banana"]);
    assert_eq!(resp.body["has_more"], false);
    assert_eq!(resp.body["next_offset"], Value::Null);
    let resp = v
        .query("products", json!({"sort": ["-price"], "offset": 9}))
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["items"], json!([]), "past the end: no documents");
    assert_eq!(
        resp.body["total"], 5,
        "past the end: the total still counts"
    );
    assert_eq!(resp.body["has_more"], false);
    let resp = v.query("products", json!({"sort": ["tag", "name"]})).await;
    assert_eq!(
        names(&resp),
        ["apple", "banana", "carrot", "eggplant", "durian"],
        "missing values sort last"
    );

    // Count, update, delete.
    let count = v.api.get(&v.path("/products/count")).await;
    assert_eq!(count.body, json!({"count": 5}));
    let resp = v
        .query("products", json!({"filter": {"name": "apple"}}))
        .await;
    let id = resp.body["items"][0]["_id"].as_str().unwrap().to_owned();
    let resp = v
        .api
        .put(
            &v.path(&format!("/products/{id}")),
            json!({"record": {"name": "apple", "price": 1.75, "stock": 9, "active": true, "tag": "fruit"}}),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["document"]["price"], 1.75);
    assert_eq!(resp.body["document"]["_id"], id.as_str());
    assert_eq!(names_for(&v, json!({"price": 1.75})).await, ["apple"]);
    let resp = v.api.delete(&v.path(&format!("/products/{id}"))).await;
    assert_eq!(resp.status, 204, "{}", resp.body);
    assert_eq!(
        v.api
            .delete(&v.path(&format!("/products/{id}")))
            .await
            .status,
        404
    );
    let missing = v
        .api
        .put(
            &v.path(&format!("/products/{id}")),
            json!({"record": {"name": "x", "price": 1}}),
        )
        .await;
    assert_eq!(missing.status, 404, "{}", missing.body);
    assert_eq!(
        v.api.get(&v.path("/products/count")).await.body,
        json!({"count": 4})
    );

    // The list shows the engine and the count.
    let list = v.api.get(&v.path("")).await;
    assert_eq!(
        list.body,
        json!({"collections": [{"name": "products", "engine": engine, "document_count": 4, "description": null}]})
    );

    // Drop: everything gone.
    assert_eq!(v.api.delete(&v.path("/products")).await.status, 204);
    assert_eq!(v.api.get(&v.path("/products/count")).await.status, 404);
    assert_eq!(
        v.api.get(&v.path("")).await.body,
        json!({"collections": []})
    );
    v.collection(products_schema(engine)).await;
    assert_eq!(
        v.api.get(&v.path("/products/count")).await.body,
        json!({"count": 0})
    );
}

#[tokio::test]
async fn postgres_engine() {
    suite("postgres").await;
}

#[tokio::test]
async fn clickhouse_engine() {
    suite("clickhouse").await;
}

#[tokio::test]
async fn a_clickhouse_that_is_down_is_a_502_naming_the_engine() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let server = crate::support::Plinth::start(crate::support::ServerOptions {
        database_url: Some(crate::support::shared_cluster().url()),
        env: vec![("PLINTH_CLICKHOUSE_URL".into(), url)],
        ..Default::default()
    });
    let v = Vault::on(&server, "vault clickhouse down").await;
    let resp = v
        .api
        .post(&v.path(""), json!({"schema": {"name": "x", "engine": "clickhouse", "fields": [{"name": "a", "field_type": "text"}]}}))
        .await;
    assert_eq!(resp.status, 502, "{}", resp.body);
    assert_eq!(resp.body["error"]["details"]["engine"], "clickhouse");
}

#[tokio::test]
async fn workspaces_never_see_each_others_documents_on_either_engine() {
    for engine in ["postgres", "clickhouse"] {
        let server = match engine {
            "clickhouse" => crate::support::with_clickhouse(),
            _ => crate::support::shared(),
        };
        let a = Vault::on(server, &format!("vault isolation a {engine}")).await;
        let b = Vault::on(server, &format!("vault isolation b {engine}")).await;
        let schema = json!({"name": "same_name", "engine": engine, "fields": [{"name": "v", "field_type": "text"}]});
        a.collection(schema.clone()).await;
        b.collection(schema).await;
        let id = a.insert("same_name", json!({"v": "a's secret"})).await;
        b.insert("same_name", json!({"v": "b's"})).await;
        let resp = b.query("same_name", json!({})).await;
        assert_eq!(resp.body["total"], 1, "{engine}: {}", resp.body);
        assert_eq!(resp.body["items"][0]["v"], "b's");
        // a's document id means nothing in b.
        assert_eq!(
            b.api
                .delete(&b.path(&format!("/same_name/{id}")))
                .await
                .status,
            404
        );
        // and a's key cannot reach b's vault.
        assert_eq!(a.api.get(&b.path("")).await.status, 403);
    }
}
