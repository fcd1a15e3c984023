//! `dl_resolved`: each base record merged with its override — patches over the base
//! payloads, the override's status winning, tombstones hidden, override-only records
//! present.

use reqwest::Method;
use serde_json::{json, Value};

use super::privileges::SEED_UPSERT;
use crate::support::{self, Workspace};

async fn load_people(ws: &Workspace, lines: &[Value]) {
    let body: String = lines.iter().map(|l| format!("{l}\n")).collect();
    let resp = ws
        .ingestion_admin()
        .send_raw(
            Method::POST,
            "/api/v2/ingestion/records/people",
            "application/x-ndjson",
            body.into_bytes(),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

async fn person(
    read: &tokio_postgres::Client,
    key: &str,
) -> Option<(String, String, Value, Value)> {
    read.query_opt(
        "SELECT display_name, status, identity_payload, raw_payload FROM dl_resolved.people WHERE identity_key = $1",
        &[&key],
    )
    .await
    .unwrap()
    .map(|r| (r.get(0), r.get(1), r.get(2), r.get(3)))
}

async fn fixture(name: &str) -> (Workspace, tokio_postgres::Client, tokio_postgres::Client) {
    let ws = Workspace::provisioned(support::shared(), name).await;
    load_people(
        &ws,
        &[json!({
            "identity_key": "p1",
            "status": "active",
            "identity_payload": { "name": "Ada Lovelace", "title": "Engineer", "address": { "city": "London", "zip": "N1" } },
            "raw_payload": { "source": "crm", "score": 7 }
        })],
    )
    .await;
    let read = support::try_connect(&ws.reveal("read", false).await)
        .await
        .unwrap();
    let runtime = support::try_connect(&ws.reveal("runtime", false).await)
        .await
        .unwrap();
    (ws, read, runtime)
}

#[tokio::test]
async fn a_base_record_without_override_reads_as_is() {
    let (_ws, read, _) = fixture("plain").await;
    let (name, status, identity, raw) = person(&read, "p1").await.expect("present");
    assert_eq!(name, "Ada Lovelace");
    assert_eq!(status, "active");
    assert_eq!(identity["address"]["city"], "London");
    assert_eq!(raw["score"], 7);
}

#[tokio::test]
async fn patches_merge_over_the_base_payloads_and_null_removes_a_key() {
    let (_ws, read, runtime) = fixture("patch").await;
    runtime
        .execute(
            SEED_UPSERT,
            &[
                &"p1",
                &"active",
                &serde_json::from_str::<serde_json::Value>(
                    r#"{"title":"CTO","address":{"zip":null,"country":"UK"}}"#,
                )
                .unwrap(),
                &serde_json::from_str::<serde_json::Value>(r#"{"score":9}"#).unwrap(),
            ],
        )
        .await
        .unwrap();
    let (_, _, identity, raw) = person(&read, "p1").await.unwrap();
    assert_eq!(
        identity,
        json!({ "name": "Ada Lovelace", "title": "CTO", "address": { "city": "London", "country": "UK" } })
    );
    assert_eq!(raw, json!({ "source": "crm", "score": 9 }));
}

#[tokio::test]
async fn the_override_status_wins_and_a_null_status_keeps_the_base_one() {
    let (_ws, read, runtime) = fixture("status").await;
    runtime
        .execute(
            SEED_UPSERT,
            &[
                &"p1",
                &"churned",
                &serde_json::json!({}),
                &serde_json::json!({}),
            ],
        )
        .await
        .unwrap();
    assert_eq!(person(&read, "p1").await.unwrap().1, "churned");
    runtime
        .execute(
            "UPDATE dl_override.person_overrides SET status = NULL WHERE identity_key = 'p1'",
            &[],
        )
        .await
        .unwrap();
    assert_eq!(person(&read, "p1").await.unwrap().1, "active");
}

#[tokio::test]
async fn a_tombstoned_record_is_hidden() {
    let (_ws, read, runtime) = fixture("tombstone").await;
    runtime
        .execute(
            SEED_UPSERT,
            &[
                &"p1",
                &"active",
                &serde_json::json!({}),
                &serde_json::json!({}),
            ],
        )
        .await
        .unwrap();
    runtime
        .execute(
            "UPDATE dl_override.person_overrides SET tombstoned = true WHERE identity_key = 'p1'",
            &[],
        )
        .await
        .unwrap();
    assert!(person(&read, "p1").await.is_none());
    // The seed's upsert clears the tombstone again.
    runtime
        .execute(
            SEED_UPSERT,
            &[
                &"p1",
                &"active",
                &serde_json::json!({}),
                &serde_json::json!({}),
            ],
        )
        .await
        .unwrap();
    assert!(person(&read, "p1").await.is_some());
}

#[tokio::test]
async fn an_override_without_a_base_record_is_present() {
    let (_ws, read, runtime) = fixture("override only").await;
    runtime
        .execute(
            SEED_UPSERT,
            &[
                &"p2",
                &"lead",
                &serde_json::from_str::<serde_json::Value>(r#"{"email":"grace@example.com"}"#)
                    .unwrap(),
                &serde_json::json!({}),
            ],
        )
        .await
        .unwrap();
    let (name, status, identity, _) = person(&read, "p2").await.expect("override-only record");
    assert_eq!(status, "lead");
    assert_eq!(identity["email"], "grace@example.com");
    assert_eq!(
        name, "grace@example.com",
        "display name falls back to the email"
    );
    let n: i64 = read
        .query_one("SELECT count(*) FROM dl_resolved.people", &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(n, 2);
}

#[tokio::test]
async fn companies_merge_the_same_way() {
    let ws = Workspace::provisioned(support::shared(), "companies").await;
    let resp = ws
        .ingestion_admin()
        .send_raw(
            Method::POST,
            "/api/v2/ingestion/records/companies",
            "application/x-ndjson",
            br#"{"identity_key":"c1","identity_payload":{"name":"Acme","domain":"acme.example"}}"#
                .to_vec(),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let runtime = support::try_connect(&ws.reveal("runtime", false).await)
        .await
        .unwrap();
    runtime
        .execute(
            "INSERT INTO dl_override.company_overrides (identity_key, identity_payload_patch) VALUES ('c1', '{\"name\":\"Acme Corp\"}')",
            &[],
        )
        .await
        .unwrap();
    let read = support::try_connect(&ws.reveal("read", false).await)
        .await
        .unwrap();
    let row = read
        .query_one("SELECT display_name, identity_payload FROM dl_resolved.companies WHERE identity_key = 'c1'", &[])
        .await
        .unwrap();
    assert_eq!(row.get::<_, String>(0), "Acme Corp");
    assert_eq!(row.get::<_, Value>(1)["domain"], "acme.example");
}
