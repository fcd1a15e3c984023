//! Concurrent reads: reads of plain tables share a few pipelined connections (the
//! workspace's lane), so each answer must still belong to its own request, and an
//! error must stay with the request that caused it.

use super::Fixture;
use crate::support;

#[tokio::test]
async fn concurrent_reads_each_get_their_own_answer_and_errors_stay_their_own() {
    let f = Fixture::new("concurrent reads").await;
    let mut requests = Vec::new();
    for i in 0..96 {
        let api = f.api.clone();
        let (query, expected): (String, Option<i64>) = match i % 3 {
            0 | 1 => {
                let id = 1 + i % 6;
                (format!("select=id,name&id=eq.{id}"), Some(id))
            }
            // A value PostgreSQL rejects, in the middle of the pipeline.
            _ => ("select=id&price=gt.not-a-number".to_owned(), None),
        };
        let path = f.path("products", &query);
        requests.push(tokio::spawn(
            async move { (expected, api.get(&path).await) },
        ));
    }
    for request in requests {
        let (expected, resp) = request.await.expect("the request task");
        match expected {
            Some(id) => {
                assert_eq!(resp.status, 200, "{}", resp.body);
                assert_eq!(resp.body["data"].as_array().map(Vec::len), Some(1));
                assert_eq!(resp.body["data"][0]["id"], id, "{}", resp.body);
                assert_eq!(resp.body["pagination"]["total"], 1);
            }
            None => {
                assert_eq!(resp.status, 400, "{}", resp.body);
                assert_eq!(resp.code(), "invalid_value");
            }
        }
    }
    // And the connections are fine afterwards.
    assert_eq!(f.ids("products", "order=id").await, vec![1, 2, 3, 4, 5, 6]);
}

#[tokio::test]
async fn concurrent_reads_are_batched_and_each_gets_its_own_answer() {
    // A server of its own, so that its batch counters count this test's reads only.
    let server = support::Plinth::start(support::ServerOptions {
        database_url: Some(support::shared_cluster().url()),
        ..Default::default()
    });
    let f = Fixture::on(&server, "batched reads").await;
    // Reads of one statement with different keys, more at once than run alone: the
    // rest wait and go out as one statement. Ids 7 and up have no row.
    let f = &f;
    let reads_by_key = |round: i64| async move {
        let mut requests = Vec::new();
        for i in 0..96 {
            let id = 1 + (i + round) % 8;
            let (api, path) = (f.api.clone(), f.path(&format!("products/{id}"), ""));
            requests.push(tokio::spawn(async move { (id, api.get(&path).await) }));
        }
        for request in requests {
            let (id, resp) = request.await.expect("the request task");
            if id <= 6 {
                assert_eq!(resp.status, 200, "{}", resp.body);
                assert_eq!(resp.body["data"]["id"], id, "{}", resp.body);
            } else {
                assert_eq!(resp.status, 404, "{}", resp.body);
            }
        }
    };
    let mut batched = 0;
    for round in 0..5 {
        reads_by_key(round).await;
        batched = batched_reads(&server).await;
        if batched > 0 {
            break;
        }
    }
    assert!(batched > 0, "no read was answered by a batch");

    // A value PostgreSQL rejects fails the batch it is in; each read of that batch
    // then runs alone, so only the bad one fails.
    let mut requests = Vec::new();
    for i in 0..96 {
        let key = if i % 16 == 5 {
            "x".to_owned()
        } else {
            (1 + i % 6).to_string()
        };
        let (api, path) = (f.api.clone(), f.path(&format!("products/{key}"), ""));
        requests.push(tokio::spawn(async move { (key, api.get(&path).await) }));
    }
    for request in requests {
        let (key, resp) = request.await.expect("the request task");
        match key.parse::<i64>() {
            Ok(id) => {
                assert_eq!(resp.status, 200, "{}", resp.body);
                assert_eq!(resp.body["data"]["id"], id, "{}", resp.body);
            }
            Err(_) => {
                assert_eq!(resp.status, 400, "{}", resp.body);
                assert_eq!(resp.code(), "invalid_value");
            }
        }
    }
    assert_eq!(f.ids("products", "order=id").await, vec![1, 2, 3, 4, 5, 6]);

    // Lists of one statement with different filter values batch too, and each
    // keeps its own rows, order and limit.
    let cheapest_three_from = |price: &str| -> Vec<i64> {
        match price {
            "10" => vec![3, 6, 2],
            "20" => vec![2, 1, 4],
            "50" => vec![1, 4, 5],
            "80" => vec![4, 5],
            "100" => vec![5],
            _ => vec![],
        }
    };
    let before = batched_reads(&server).await;
    let mut batched_lists = 0;
    for round in 0..5 {
        let mut requests = Vec::new();
        for i in 0..96 {
            let price = ["10", "20", "50", "80", "100", "500"][(i + round) % 6];
            // Two page sizes at once: each batches with its own.
            let limit = 2 + i % 2;
            let query = format!("select=id&price=gte.{price}&order=price.asc&limit={limit}");
            let (api, path) = (f.api.clone(), f.path("products", &query));
            requests.push(tokio::spawn(
                async move { (price, limit, api.get(&path).await) },
            ));
        }
        for request in requests {
            let (price, limit, resp) = request.await.expect("the request task");
            assert_eq!(resp.status, 200, "{}", resp.body);
            let ids: Vec<i64> = resp.body["data"]
                .as_array()
                .expect("a list")
                .iter()
                .filter_map(|row| row["id"].as_i64())
                .collect();
            let mut expected = cheapest_three_from(price);
            expected.truncate(limit);
            assert_eq!(ids, expected, "price >= {price}, limit {limit}");
        }
        batched_lists = batched_reads(&server).await - before;
        if batched_lists > 0 {
            break;
        }
    }
    assert!(batched_lists > 0, "no list was answered by a batch");
}

/// `plinth_batched_reads` of `server`'s metrics.
async fn batched_reads(server: &support::Plinth) -> i64 {
    let metrics = server.anonymous().get("/metrics").await.body;
    let metrics = metrics.as_str().expect("metrics are text");
    metrics
        .lines()
        .find_map(|line| line.strip_prefix("plinth_batched_reads "))
        .and_then(|value| value.trim().parse().ok())
        .unwrap_or_else(|| panic!("no plinth_batched_reads in {metrics}"))
}

#[tokio::test]
async fn lanes_give_their_connections_back_when_the_server_ceiling_is_reached() {
    // Eight server connections for all workspaces together, and ten workspaces that
    // each read: every read opens its workspace's lane, which keeps a connection
    // checked out, so the ninth workspace finds the ceiling taken by lanes. They
    // must let go of it rather than leave that read waiting until it times out.
    let server = support::Plinth::start(support::ServerOptions {
        database_url: Some(support::shared_cluster().url()),
        env: vec![
            ("PLINTH_MAX_SERVER_CONNECTIONS".into(), "8".into()),
            ("PLINTH_WORKSPACE_POOL_SIZE".into(), "8".into()),
            ("PLINTH_POOL_CHECKOUT_TIMEOUT_MS".into(), "20000".into()),
        ],
        ..Default::default()
    });
    let mut fixtures = Vec::new();
    for i in 0..10 {
        fixtures.push(Fixture::on(&server, &format!("lane ceiling {i}")).await);
    }
    for round in 0..2 {
        for f in &fixtures {
            let started = std::time::Instant::now();
            assert_eq!(
                f.ids("products", "id=lt.3&order=id").await,
                vec![1, 2],
                "round {round}"
            );
            assert!(
                started.elapsed() < std::time::Duration::from_secs(10),
                "a read waited {:?} for a server connection",
                started.elapsed()
            );
        }
    }
}

#[tokio::test]
async fn a_write_whose_client_goes_away_rolls_back_and_keeps_its_connection() {
    let f = Fixture::new("cancelled write").await;
    support::slow_inserts(&f.db, "tenant_custom", "tenant_custom.events").await;
    let (_, key) = f.ws.key_with_id(&["postgres:write"]).await;
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let gone = impatient
        .post(format!("{}{}", f.api.base(), f.path("events", "")))
        .bearer_auth(&key)
        .header("Idempotency-Key", super::key())
        .json(&serde_json::json!({ "kind": "abandoned" }))
        .send()
        .await;
    assert!(gone.is_err(), "the client gave up before the answer");
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    let admin = support::workspace_superuser(&f.ws).await;
    let state = support::slow_backend_state(&admin, "tenant_custom").await;
    assert_eq!(
        state.as_deref(),
        Some("idle"),
        "the connection is pooled again, with no transaction open"
    );
    let rows: i64 =
        f.db.query_one("SELECT count(*) FROM tenant_custom.events", &[])
            .await
            .unwrap()
            .get(0);
    assert_eq!(rows, 0, "the abandoned write rolled back");
}
