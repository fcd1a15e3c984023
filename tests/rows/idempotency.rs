//! Idempotency-Key: required, replayed, bound to the request, and once under races.

use std::time::{Duration, Instant};

use serde_json::json;

use super::{key, Fixture};
use crate::support::{self, Plinth, ServerOptions, TestPostgres};

async fn count(f: &Fixture) -> i64 {
    f.db.query_one("SELECT count(*) FROM tenant_custom.events", &[])
        .await
        .unwrap()
        .get(0)
}

#[tokio::test]
async fn a_write_without_a_key_is_400() {
    let f = Fixture::new("idem missing").await;
    let resp = f
        .api
        .post(&f.path("events", ""), json!({ "kind": "x" }))
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "idempotency_key_required");
    assert_eq!(count(&f).await, 0);
}

#[tokio::test]
async fn a_retry_gets_the_first_response_without_writing_again() {
    let f = Fixture::new("idem retry").await;
    let k = key();
    let first = f
        .writer(&k)
        .post(&f.path("events", ""), json!({ "kind": "once" }))
        .await;
    assert_eq!(first.status, 201);
    let again = f
        .writer(&k)
        .post(&f.path("events", ""), json!({ "kind": "once" }))
        .await;
    assert_eq!(again.status, 201);
    assert_eq!(again.body, first.body, "the same body, ids and all");
    assert_eq!(again.headers["idempotency-replayed"], "true");
    assert_eq!(count(&f).await, 1);
    // Errors of the client are remembered too.
    let k = key();
    let bad = f
        .writer(&k)
        .post(&f.path("products", ""), json!({ "id": 1, "name": "dup" }))
        .await;
    assert_eq!(bad.status, 409);
    let replay = f
        .writer(&k)
        .post(&f.path("products", ""), json!({ "id": 1, "name": "dup" }))
        .await;
    assert_eq!(replay.status, 409);
    assert_eq!(replay.body, bad.body);
}

/// Answers of concurrent writes are stored together; each key keeps its own.
#[tokio::test]
async fn concurrent_writes_each_replay_their_own_answer() {
    let f = Fixture::new("idem concurrent answers").await;
    let keys: Vec<String> = (0..40).map(|_| key()).collect();
    let send = |n: usize| {
        let writer = f.writer(&keys[n]);
        let path = f.path("events", "");
        async move {
            writer
                .post(&path, json!({ "kind": format!("burst {n}") }))
                .await
        }
    };
    let firsts = futures::future::join_all((0..keys.len()).map(send)).await;
    let replays = futures::future::join_all((0..keys.len()).map(send)).await;
    for (n, (first, replay)) in firsts.iter().zip(&replays).enumerate() {
        assert_eq!(first.status, 201, "{}", first.body);
        assert_eq!(first.body["data"][0]["kind"], format!("burst {n}"));
        assert_eq!(replay.status, 201, "{}", replay.body);
        assert_eq!(replay.body, first.body, "key {n}");
        assert_eq!(replay.headers["idempotency-replayed"], "true");
    }
    assert_eq!(count(&f).await, 40);
}

#[tokio::test]
async fn the_same_key_with_another_request_is_422() {
    let f = Fixture::new("idem mismatch").await;
    let k = key();
    assert_eq!(
        f.writer(&k)
            .post(&f.path("events", ""), json!({ "kind": "a" }))
            .await
            .status,
        201
    );
    let resp = f
        .writer(&k)
        .post(&f.path("events", ""), json!({ "kind": "b" }))
        .await;
    assert_eq!(resp.status, 422);
    assert_eq!(resp.code(), "idempotency_key_reused");
    let resp = f.writer(&k).delete(&f.path("events", "kind=eq.a")).await;
    assert_eq!(resp.status, 422, "another method is another request");
    assert_eq!(count(&f).await, 1);
}

#[tokio::test]
async fn concurrent_requests_with_one_key_write_once() {
    let f = Fixture::new("idem race").await;
    let k = key();
    let mut calls = Vec::new();
    for _ in 0..8 {
        let client = f.writer(&k);
        let path = f.path("events", "");
        calls.push(tokio::spawn(async move {
            client.post(&path, json!({ "kind": "race" })).await
        }));
    }
    let mut bodies = Vec::new();
    for call in calls {
        let resp = call.await.unwrap();
        assert_eq!(resp.status, 201, "{}", resp.body);
        bodies.push(resp.body);
    }
    assert!(
        bodies.windows(2).all(|w| w[0] == w[1]),
        "every caller got the one response"
    );
    assert_eq!(count(&f).await, 1);
}

/// The value of a sequence: a count that survives the rollback of what it counts.
async fn calls(f: &Fixture, sequence: &str) -> i64 {
    f.db.query_one(
        &format!("SELECT last_value FROM tenant_custom.{sequence}"),
        &[],
    )
    .await
    .unwrap()
    .get(0)
}

#[tokio::test]
async fn a_conflict_that_asks_for_a_retry_is_not_remembered() {
    let f = Fixture::new("idem retry transaction").await;
    // The first insert meets a serialization failure; the ones after it pass.
    f.db.batch_execute(
        "CREATE SEQUENCE tenant_custom.insert_attempts;
         GRANT USAGE ON SEQUENCE tenant_custom.insert_attempts TO PUBLIC;
         CREATE FUNCTION tenant_custom.conflict_once() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF nextval('tenant_custom.insert_attempts') = 1 THEN
                 RAISE EXCEPTION 'a concurrent update' USING ERRCODE = 'serialization_failure';
             END IF;
             RETURN NEW;
         END $$;
         CREATE TRIGGER conflict_once BEFORE INSERT ON tenant_custom.events
             FOR EACH ROW EXECUTE FUNCTION tenant_custom.conflict_once();",
    )
    .await
    .unwrap();
    let k = key();
    let first = f
        .writer(&k)
        .post(&f.path("events", ""), json!({ "kind": "contended" }))
        .await;
    assert_eq!(first.status, 409, "{}", first.body);
    assert_eq!(first.code(), "retry_transaction");
    let retry = f
        .writer(&k)
        .post(&f.path("events", ""), json!({ "kind": "contended" }))
        .await;
    assert_eq!(retry.status, 201, "the retry runs: {}", retry.body);
    assert!(retry.headers.get("idempotency-replayed").is_none());
    assert_eq!(calls(&f, "insert_attempts").await, 2);
    assert_eq!(count(&f).await, 1);
}

#[tokio::test]
async fn a_commit_lost_with_its_connection_is_not_run_again() {
    let f = Fixture::new("idem lost commit").await;
    // At COMMIT a deferred trigger ends its own backend: the host loses the
    // connection with the COMMIT unanswered, as when a database goes away mid-commit.
    f.db.batch_execute(
        "CREATE SEQUENCE tenant_custom.commit_attempts;
         GRANT USAGE ON SEQUENCE tenant_custom.commit_attempts TO PUBLIC;
         CREATE FUNCTION tenant_custom.end_session() RETURNS trigger LANGUAGE plpgsql AS $$
         BEGIN
             IF NEW.kind = 'doomed' THEN
                 PERFORM nextval('tenant_custom.commit_attempts');
                 PERFORM pg_terminate_backend(pg_backend_pid());
             END IF;
             RETURN NULL;
         END $$;
         CREATE CONSTRAINT TRIGGER end_session AFTER INSERT ON tenant_custom.events
             DEFERRABLE INITIALLY DEFERRED
             FOR EACH ROW EXECUTE FUNCTION tenant_custom.end_session();",
    )
    .await
    .unwrap();
    let k = key();
    let first = f
        .writer(&k)
        .post(&f.path("events", ""), json!({ "kind": "doomed" }))
        .await;
    assert_eq!(first.status, 503, "{}", first.body);
    assert_eq!(first.code(), "write_outcome_unknown");
    let retry = f
        .writer(&k)
        .post(&f.path("events", ""), json!({ "kind": "doomed" }))
        .await;
    assert_eq!(retry.status, 503, "{}", retry.body);
    assert_eq!(retry.body, first.body, "the first answer, replayed");
    assert_eq!(retry.headers["idempotency-replayed"], "true");
    assert_eq!(calls(&f, "commit_attempts").await, 1, "the write ran once");
    // The workspace still serves writes on its other connections.
    let other = f
        .writer(&key())
        .post(&f.path("events", ""), json!({ "kind": "fine" }))
        .await;
    assert_eq!(other.status, 201, "{}", other.body);
    assert_eq!(count(&f).await, 1);
}

#[tokio::test]
async fn idempotency_records_commit_without_waiting_for_the_disk_and_the_rest_does_not() {
    support::shared();
    let cluster = plinth::cluster::Cluster::from_url(&support::shared_cluster().url()).unwrap();
    let control = plinth::control::ControlDb::connect(&cluster).unwrap();
    let setting = |rows: Vec<tokio_postgres::SimpleQueryMessage>| {
        rows.into_iter()
            .find_map(|message| match message {
                tokio_postgres::SimpleQueryMessage::Row(row) => row.get(0).map(str::to_owned),
                _ => None,
            })
            .unwrap()
    };
    let records = control.records_client().await.unwrap();
    let rows = records
        .simple_query("SHOW synchronous_commit")
        .await
        .unwrap();
    assert_eq!(setting(rows), "off");
    let other = control.client().await.unwrap();
    let rows = other.simple_query("SHOW synchronous_commit").await.unwrap();
    assert_eq!(setting(rows), "on");
    control.close();
}

#[tokio::test]
async fn a_crash_right_after_a_write_never_lets_its_retry_write_again() {
    let pg = TestPostgres::start();
    let server = Plinth::start(ServerOptions {
        database_url: Some(pg.url()),
        ..Default::default()
    });
    let f = Fixture::on(&server, "idem crash").await;
    let k = key();
    let first = f
        .writer(&k)
        .post(&f.path("events", ""), json!({ "kind": "crash" }))
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    // An immediate shutdown straight after the answer: what the WAL writer had not
    // flushed is lost, the record's answer (committed without waiting) likely with it.
    // The claim is not: the write's own commit flushed the log up to itself.
    pg.crash();
    pg.restart();
    let deadline = Instant::now() + Duration::from_secs(90);
    let retry = loop {
        let resp = f
            .writer(&k)
            .post(&f.path("events", ""), json!({ "kind": "crash" }))
            .await;
        if resp.status != 503 {
            break resp;
        }
        assert!(Instant::now() < deadline, "did not recover: {}", resp.body);
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    match retry.status {
        201 => {
            assert_eq!(retry.headers["idempotency-replayed"], "true");
            assert_eq!(retry.body, first.body);
        }
        409 => assert_eq!(retry.code(), "idempotency_in_progress"),
        other => panic!("unexpected {other}: {}", retry.body),
    }
    let db = support::try_connect(&f.ws.reveal("runtime", false).await)
        .await
        .unwrap();
    let rows: i64 = db
        .query_one("SELECT count(*) FROM tenant_custom.events", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(rows, 1, "written once");
}
