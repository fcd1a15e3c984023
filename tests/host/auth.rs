//! Authentication: API keys, JWTs (HS256, RS256, ES256; PEM and JWKS), scopes,
//! workspaces, and revocation across replicas.

use jsonwebtoken::{Algorithm, EncodingKey, Header};
use serde_json::json;

use crate::support::{self, now, Plinth, ServerOptions, Workspace};

const STATUS: &str = "/api/v2/ingestion/status";

#[tokio::test]
async fn missing_and_malformed_credentials_are_401() {
    let server = support::shared();
    let anon = server.anonymous();
    let resp = anon.get(STATUS).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.code(), "missing_credential");
    for token in [
        "garbage",
        "plk_0000000000000000_notarealsecretnotarealsecret",
        "a.b.c",
    ] {
        let resp = anon.with_token(token).get(STATUS).await;
        assert_eq!(resp.status, 401, "{token}: {}", resp.body);
        assert_eq!(resp.code(), "invalid_credential");
    }
}

#[tokio::test]
async fn a_key_without_the_scope_or_for_another_workspace_is_403() {
    let server = support::shared();
    let mine = Workspace::create(server, "mine").await;
    let theirs = Workspace::create(server, "theirs").await;
    let no_scope = mine.key(&["postgres:read"]).await;
    let resp = no_scope.get(STATUS).await;
    assert_eq!(resp.status, 403);
    assert_eq!(resp.code(), "insufficient_scope");
    assert!(resp.message().contains("ingestion:read"));

    // A key is tied to its workspace: naming another one is refused.
    let key = mine.key(&["ingestion:read"]).await;
    let resp = key
        .with_header("X-Workspace-Id", &theirs.id)
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 403, "{}", resp.body);
    assert!(!resp.body.to_string().contains(&theirs.id), "{}", resp.body);
    let resp = key
        .with_header("X-Workspace-Id", &mine.id)
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["workspace_id"], mine.id);
}

fn token(
    alg: Algorithm,
    key: &EncodingKey,
    kid: Option<&str>,
    claims: serde_json::Value,
) -> String {
    let mut header = Header::new(alg);
    header.kid = kid.map(str::to_owned);
    jsonwebtoken::encode(&header, &claims, key).unwrap()
}

fn claims(ws: &Workspace, exp_offset: i64) -> serde_json::Value {
    json!({ "sub": "user-1", "workspace_id": ws.id, "scope": "ingestion:read", "exp": now() + exp_offset })
}

#[tokio::test]
async fn hs256_tokens_are_checked_for_signature_expiry_nbf_and_workspace() {
    let server = support::shared();
    let ws = Workspace::create(server, "jwt").await;
    let other = Workspace::create(server, "jwt other").await;
    let anon = server.anonymous();
    let good = support::hs256(claims(&ws, 3600));
    let resp = anon.with_token(&good).get(STATUS).await;
    assert_eq!(resp.status, 200, "{}", resp.body);

    let expired = support::hs256(claims(&ws, -3600));
    let resp = anon.with_token(&expired).get(STATUS).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.code(), "token_expired");

    let mut early = claims(&ws, 3600);
    early["nbf"] = json!(now() + 600);
    let resp = anon.with_token(&support::hs256(early)).get(STATUS).await;
    assert_eq!(resp.status, 401);

    let forged = token(
        Algorithm::HS256,
        &EncodingKey::from_secret(b"not-the-secret"),
        None,
        claims(&ws, 3600),
    );
    let resp = anon.with_token(&forged).get(STATUS).await;
    assert_eq!(resp.status, 401);
    assert_eq!(resp.code(), "invalid_credential");

    let mut no_exp = claims(&ws, 0);
    no_exp.as_object_mut().unwrap().remove("exp");
    let resp = anon.with_token(&support::hs256(no_exp)).get(STATUS).await;
    assert_eq!(resp.status, 401, "exp is required");

    // A token acts on its own workspace only: naming another one is refused.
    let resp = anon
        .with_token(&support::hs256(claims(&other, 3600)))
        .with_header("X-Workspace-Id", &ws.id)
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 403, "{}", resp.body);
    let resp = anon
        .with_token(&support::hs256(claims(&other, 3600)))
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 200);
    assert_eq!(resp.body["workspace_id"], other.id);

    let mut permissions = claims(&ws, 3600);
    permissions.as_object_mut().unwrap().remove("scope");
    permissions["permissions"] = json!(["ingestion:read"]);
    let resp = anon
        .with_token(&support::hs256(permissions))
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 200, "scopes from a `permissions` array");
}

#[tokio::test]
async fn rs256_and_es256_tokens_verify_against_a_pem_file() {
    let server = support::shared();
    let ws = Workspace::create(server, "pem").await;
    let keys = support::jwt_keys();
    let rsa = EncodingKey::from_rsa_pem(&std::fs::read(&keys.rsa_private).unwrap()).unwrap();
    let ec = EncodingKey::from_ec_pem(&std::fs::read(&keys.ec_private).unwrap()).unwrap();
    let anon = server.anonymous();
    for (alg, key) in [(Algorithm::RS256, &rsa), (Algorithm::ES256, &ec)] {
        let resp = anon
            .with_token(&token(alg, key, None, claims(&ws, 3600)))
            .get(STATUS)
            .await;
        assert_eq!(resp.status, 200, "{alg:?}: {}", resp.body);
    }
    // An RS256 token signed by another key is refused.
    let out = std::process::Command::new("openssl")
        .args([
            "genpkey",
            "-algorithm",
            "RSA",
            "-pkeyopt",
            "rsa_keygen_bits:2048",
        ])
        .output()
        .unwrap();
    let stranger = EncodingKey::from_rsa_pem(&out.stdout).unwrap();
    let resp = anon
        .with_token(&token(Algorithm::RS256, &stranger, None, claims(&ws, 3600)))
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 401);
}

#[tokio::test]
async fn tokens_verify_against_a_jwks_file_by_kid_with_a_custom_workspace_claim() {
    let keys = support::jwt_keys();
    let server = Plinth::start(ServerOptions {
        database_url: Some(support::shared_cluster().url()),
        env: vec![
            (
                "PLINTH_JWT_PUBLIC_KEYS".into(),
                keys.jwks.display().to_string(),
            ),
            (
                "PLINTH_JWT_WORKSPACE_CLAIM".into(),
                "https://plinth.dev/ws".into(),
            ),
        ],
        ..Default::default()
    });
    let ws = Workspace::create(&server, "jwks").await;
    let ec = EncodingKey::from_ec_pem(&std::fs::read(&keys.ec_private).unwrap()).unwrap();
    let rsa = EncodingKey::from_rsa_pem(&std::fs::read(&keys.rsa_private).unwrap()).unwrap();
    let custom = json!({ "sub": "u", "https://plinth.dev/ws": ws.id, "scope": "ingestion:read", "exp": now() + 60 });
    let anon = server.anonymous();
    let resp = anon
        .with_token(&token(Algorithm::ES256, &ec, Some("ec-1"), custom.clone()))
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = anon
        .with_token(&token(
            Algorithm::RS256,
            &rsa,
            Some("rsa-1"),
            custom.clone(),
        ))
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    let resp = anon
        .with_token(&token(Algorithm::RS256, &rsa, Some("unknown-kid"), custom))
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 401);
    // HS256 is not enabled on this server.
    let resp = anon
        .with_token(&support::hs256(claims(&ws, 60)))
        .get(STATUS)
        .await;
    assert_eq!(resp.status, 401);
}

#[tokio::test]
async fn a_revoked_key_stops_working_at_once_on_every_replica() {
    let url = support::shared_cluster().url();
    let a = Plinth::start(ServerOptions {
        database_url: Some(url.clone()),
        ..Default::default()
    });
    let b = Plinth::start(ServerOptions {
        database_url: Some(url),
        ..Default::default()
    });
    let ws = Workspace::create(&a, "replicated").await;
    let (key_id, key) = ws.key_with_id(&["ingestion:read"]).await;
    let on_a = a.anonymous().with_token(&key);
    let on_b = b.anonymous().with_token(&key);
    // Both replicas have the key cached now.
    for _ in 0..3 {
        assert_eq!(on_a.get(STATUS).await.status, 200);
        assert_eq!(on_b.get(STATUS).await.status, 200);
    }
    let resp = a
        .admin()
        .delete(&format!("/v1/admin/workspaces/{}/api-keys/{key_id}", ws.id))
        .await;
    assert_eq!(resp.status, 204);
    let resp = on_b.get(STATUS).await;
    assert_eq!(resp.status, 401, "replica B still accepted a revoked key");
    assert_eq!(on_a.get(STATUS).await.status, 401);
}
