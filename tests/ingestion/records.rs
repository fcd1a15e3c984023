//! Base-record loads: NDJSON streamed through COPY, upserted by identity key, all or
//! nothing.

use reqwest::Method;

use crate::support::{self, Workspace};

async fn load(
    ws: &Workspace,
    kind: &str,
    content_type: &str,
    body: String,
) -> crate::support::Resp {
    ws.ingestion_admin()
        .send_raw(
            Method::POST,
            &format!("/api/v2/ingestion/records/{kind}"),
            content_type,
            body.into_bytes(),
        )
        .await
}

async fn count(ws: &Workspace) -> i64 {
    support::workspace_superuser(ws)
        .await
        .query_one("SELECT count(*) FROM dl_cache.person_enrichments", &[])
        .await
        .unwrap()
        .get(0)
}

fn lines(n: usize, tag: &str) -> String {
    (0..n)
        .map(|i| {
            format!(
                "{{\"identity_key\":\"p{i}\",\"status\":\"active\",\"identity_payload\":{{\"name\":\"Person {i}\",\"tag\":\"{tag}\"}},\"raw_payload\":{{\"i\":{i}}}}}\n"
            )
        })
        .collect()
}

#[tokio::test]
async fn ndjson_records_are_upserted_by_identity_key() {
    let ws = Workspace::provisioned(support::shared(), "records").await;
    let resp = load(&ws, "people", "application/x-ndjson", lines(1000, "first")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["received"], 1000);
    assert_eq!(resp.body["upserted"], 1000);
    assert_eq!(count(&ws).await, 1000);

    // Again, changed, with a duplicate key whose last line wins and no trailing newline.
    let mut body = lines(500, "second");
    body.push_str("{\"identity_key\":\"p1\",\"identity_payload\":{\"name\":\"Last\"}}");
    let resp = load(&ws, "people", "application/x-ndjson", body).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["received"], 501);
    assert_eq!(count(&ws).await, 1000);
    let read = support::try_connect(&ws.reveal("read", false).await)
        .await
        .unwrap();
    let names: Vec<(String, String)> = read
        .query(
            "SELECT identity_key, display_name FROM dl_resolved.people WHERE identity_key IN ('p1', 'p2', 'p999') ORDER BY 1",
            &[],
        )
        .await
        .unwrap()
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    assert_eq!(
        names,
        [
            ("p1".to_owned(), "Last".to_owned()),
            ("p2".to_owned(), "Person 2".to_owned()),
            ("p999".to_owned(), "Person 999".to_owned())
        ]
    );
}

#[tokio::test]
async fn a_bad_line_loads_nothing_and_is_named() {
    let ws = Workspace::provisioned(support::shared(), "bad records").await;
    let mut body = lines(10, "x");
    body.push_str("{\"identity_key\":\"\"}\n");
    body.push_str(&lines(5, "y"));
    let resp = load(&ws, "people", "application/x-ndjson", body).await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.code(), "invalid_record");
    assert_eq!(resp.body["error"]["details"]["line"], 11);
    assert_eq!(count(&ws).await, 0, "nothing was loaded");

    let resp = load(&ws, "people", "application/x-ndjson", "{not json}\n".into()).await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().starts_with("line 1:"), "{}", resp.body);
    let resp = load(
        &ws,
        "people",
        "application/x-ndjson",
        "{\"identity_key\":\"a\",\"raw_payload\":[1]}".into(),
    )
    .await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("raw_payload"));
    let resp = load(
        &ws,
        "people",
        "application/x-ndjson",
        "{\"identity_key\":\"a\",\"extra\":1}".into(),
    )
    .await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("extra"));
}

#[tokio::test]
async fn record_loads_check_kind_media_type_and_scope() {
    let ws = Workspace::provisioned(support::shared(), "record checks").await;
    let resp = load(&ws, "animals", "application/x-ndjson", lines(1, "x")).await;
    assert_eq!(resp.status, 404);
    let resp = load(&ws, "people", "text/csv", lines(1, "x")).await;
    assert_eq!(resp.status, 415);
    let reader = ws.key(&["ingestion:read"]).await;
    let resp = reader
        .send_raw(
            Method::POST,
            "/api/v2/ingestion/records/people",
            "application/x-ndjson",
            lines(1, "x").into_bytes(),
        )
        .await;
    assert_eq!(resp.status, 403);
}
