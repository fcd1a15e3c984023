//! The HTTP surface: request ids, API versions, body limits, JSON errors everywhere,
//! metrics.

use reqwest::Method;
use serde_json::json;

use crate::support;

#[tokio::test]
async fn request_ids_are_echoed_or_generated() {
    let anon = support::shared().anonymous();
    let resp = anon
        .with_header("X-Request-Id", "trace-abc.123")
        .get("/healthz")
        .await;
    assert_eq!(resp.headers["x-request-id"], "trace-abc.123");
    let resp = anon.get("/healthz").await;
    let generated = resp.headers["x-request-id"].to_str().unwrap();
    assert!(uuid::Uuid::parse_str(generated).is_ok(), "{generated}");
    // A hostile id (log injection) is replaced.
    let resp = anon
        .with_header("X-Request-Id", "a b\tc")
        .get("/healthz")
        .await;
    assert_ne!(resp.headers["x-request-id"], "a b\tc");
}

#[tokio::test]
async fn only_the_supported_api_version_is_accepted() {
    let admin = support::shared().admin();
    let resp = admin
        .with_header("X-API-Version", "2024-01-01")
        .get("/v1/admin/workspaces")
        .await;
    assert_eq!(resp.status, 200);
    let resp = admin
        .with_header("X-API-Version", "2023-06-01")
        .get("/v1/admin/workspaces")
        .await;
    assert_eq!(resp.status, 400);
    assert_eq!(resp.code(), "unsupported_api_version");
    assert!(
        resp.message().contains("2024-01-01"),
        "names the supported versions"
    );
}

#[tokio::test]
async fn bodies_over_the_limit_are_413_and_bad_bodies_400_or_415() {
    let admin = support::shared().admin();
    let big = "x".repeat(2 << 20);
    let resp = admin
        .post("/v1/admin/workspaces", json!({ "name": big }))
        .await;
    assert_eq!(resp.status, 413);
    assert_eq!(resp.code(), "payload_too_large");
    let resp = admin
        .send_raw(
            Method::POST,
            "/v1/admin/workspaces",
            "application/json",
            b"{\"name\":".to_vec(),
        )
        .await;
    assert_eq!(resp.status, 400);
    assert!(resp.message().contains("line 1"), "{}", resp.body);
    let resp = admin
        .send_raw(
            Method::POST,
            "/v1/admin/workspaces",
            "text/plain",
            b"name=x".to_vec(),
        )
        .await;
    assert_eq!(resp.status, 415);
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_json_error_shape() {
    let admin = support::shared().admin();
    let resp = admin.get("/v1/nothing/here").await;
    assert_eq!(resp.status, 404);
    assert_eq!(resp.code(), "not_found");
    let resp = admin.send(Method::PUT, "/healthz", None).await;
    assert_eq!(resp.status, 405);
    assert_eq!(resp.code(), "method_not_allowed");
}

#[tokio::test]
async fn metrics_count_requests_by_route_and_status() {
    let server = support::shared();
    server.anonymous().get("/healthz").await;
    server.anonymous().get("/v1/admin/workspaces").await;
    let resp = server.anonymous().get("/metrics").await;
    assert_eq!(resp.status, 200);
    let text = resp.body.as_str().unwrap();
    assert!(
        text.contains(
            "plinth_http_requests_total{route=\"/healthz\",method=\"GET\",status=\"200\"}"
        ),
        "{text}"
    );
    assert!(
        text.contains("route=\"/v1/admin/workspaces\",method=\"GET\",status=\"401\""),
        "{text}"
    );
    assert!(text.contains("plinth_http_request_duration_seconds_bucket"));
    assert!(text.contains("plinth_server_connection_ceiling"));
}

#[tokio::test]
async fn logs_never_contain_secrets() {
    let server = support::shared();
    let ws = support::Workspace::provisioned(server, "secrets in logs").await;
    let (_, key) = ws.key_with_id(&["ingestion:admin"]).await;
    let client = server.anonymous().with_token(&key);
    let resp = client
        .post(
            "/api/v2/ingestion/connection-uris/reveal",
            json!({ "kind": "runtime" }),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let uri = resp.body["uri"].as_str().unwrap();
    let password = uri.split(':').nth(2).unwrap().split('@').next().unwrap();
    let log = server.log_text();
    assert!(
        !log.contains(password),
        "a revealed password reached the log"
    );
    assert!(!log.contains(&key), "an API key reached the log");
    assert!(
        !log.contains(&server.admin_token),
        "the admin token reached the log"
    );
}
