//! Engine-independent behaviour: both create shapes, the schema endpoint, JSON
//! Schema validation, request checks, permissions and 503, the audit trail.

use serde_json::json;

use super::Vault;
use crate::support::{self, Workspace};

#[tokio::test]
async fn both_create_shapes_and_the_schema_endpoint() {
    let v = Vault::new("vault shapes").await;
    let created = v
        .collection(json!({
            "name": "my_app_events",
            "engine": "postgres",
            "description": "what happened",
            "json_schema": {
                "type": "object",
                "properties": {
                    "event_type": {"type": "string"},
                    "payload": {"type": "object"},
                    "who": {"type": "object", "properties": {"id": {"type": "integer"}, "email": {"type": "string"}}, "required": ["id"]}
                },
                "required": ["event_type"]
            }
        }))
        .await;
    assert_eq!(created.body["engine"], "postgres");
    let schema = v.api.get(&v.path("/my_app_events/schema")).await;
    assert_eq!(schema.status, 200, "{}", schema.body);
    assert_eq!(schema.body["name"], "my_app_events");
    assert_eq!(
        schema.body["fields"],
        json!([
            {"name": "event_type", "type": "string", "required": true, "description": null},
            {"name": "payload", "type": "json", "required": false, "description": null},
            {"name": "who.email", "type": "string", "required": false, "description": null},
            {"name": "who.id", "type": "integer", "required": true, "description": null},
        ])
    );
    assert_eq!(schema.body["raw_schema"]["required"], json!(["event_type"]));

    v.collection(json!({
        "name": "native",
        "connection": "postgres",
        "fields": [
            {"name": "event_type", "field_type": "text", "required": true},
            {"name": "payload", "field_type": "json", "required": false}
        ]
    }))
    .await;
    let schema = v.api.get(&v.path("/native/schema")).await;
    assert_eq!(schema.body["raw_schema"]["required"], json!(["event_type"]));
    assert_eq!(
        schema.body["raw_schema"]["properties"]["event_type"],
        json!({"type": "string"})
    );
    // The derived schema is enforced like a given one.
    let resp = v
        .api
        .post(&v.path("/native"), json!({"record": {"payload": {}}}))
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);

    let dup = v
        .api
        .post(
            &v.path(""),
            json!({"schema": {"name": "native", "fields": [{"name": "a", "field_type": "text"}]}}),
        )
        .await;
    assert_eq!(dup.status, 409, "{}", dup.body);
}

#[tokio::test]
async fn records_are_validated_against_the_json_schema() {
    let v = Vault::new("vault validation").await;
    v.collection(json!({
        "name": "people",
        "json_schema": {
            "type": "object",
            "properties": {
                "name": {"type": "string", "minLength": 1},
                "age": {"type": "integer", "minimum": 0},
                "email": {"type": "string", "pattern": "^[^@]+@[^@]+$"}
            },
            "required": ["name"],
            "additionalProperties": false
        }
    }))
    .await;
    let resp = v
        .api
        .post(
            &v.path("/people"),
            json!({"record": {"age": -1, "email": "nope", "extra": 1}}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.code(), "validation_failed");
    let violations = resp.body["error"]["details"]["violations"]
        .as_array()
        .unwrap();
    let paths: Vec<&str> = violations
        .iter()
        .map(|v| v["path"].as_str().unwrap())
        .collect();
    for expected in ["/age", "/email"] {
        assert!(paths.contains(&expected), "{expected} in {}", resp.body);
    }
    assert!(violations.len() >= 4, "{}", resp.body);
    // Nothing was stored.
    assert_eq!(
        v.api.get(&v.path("/people/count")).await.body,
        json!({"count": 0})
    );
    let id = v.insert("people", json!({"name": "Ada", "age": 36})).await;
    let resp = v
        .api
        .put(
            &v.path(&format!("/people/{id}")),
            json!({"record": {"name": ""}}),
        )
        .await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    for bad in [
        json!({"record": [1]}),
        json!({"record": {"name": "x", "_id": "forged"}}),
        json!({"doc": {}}),
    ] {
        let resp = v.api.post(&v.path("/people"), bad.clone()).await;
        assert_eq!(resp.status, 400, "{bad}: {}", resp.body);
    }
}

#[tokio::test]
async fn bad_requests_are_400_and_unknown_names_404() {
    let v = Vault::new("vault bad requests").await;
    v.collection(json!({"name": "things", "fields": [{"name": "a", "field_type": "integer"}]}))
        .await;
    for body in [
        json!({"limit": 501}),
        json!({"limit": 0}),
        json!({"filter": {"nope": 1}}),
        json!({"filter": {"a": {"$regex": "x"}}}),
        json!({"filter": [1]}),
        json!({"sort": ["nope"]}),
        json!({"projection": ["nope"]}),
        json!({"filler": 1}),
    ] {
        let resp = v.query("things", body.clone()).await;
        assert_eq!(resp.status, 400, "{body}: {}", resp.body);
    }
    for schema in [
        json!({"name": "Bad Name", "fields": [{"name": "a", "field_type": "text"}]}),
        json!({"name": "x", "engine": "arangodb", "fields": [{"name": "a", "field_type": "text"}]}),
        json!({"name": "x", "fields": [{"name": "a", "field_type": "blob"}]}),
        json!({"name": "x", "json_schema": {"type": "array"}}),
        json!({"name": "x"}),
        json!({"name": "x", "engine": "clickhouse", "fields": [{"name": "a", "field_type": "text"}]}),
    ] {
        let resp = v
            .api
            .post(&v.path(""), json!({"schema": schema.clone()}))
            .await;
        assert_eq!(resp.status, 400, "{schema}: {}", resp.body);
    }
    let resp = v
        .api
        .post(&v.path(""), json!({"schema": {"name": "x", "engine": "clickhouse", "fields": [{"name": "a", "field_type": "text"}]}}))
        .await;
    assert!(resp.message().contains("ClickHouse"), "{}", resp.body);
    assert_eq!(v.query("nothing", json!({})).await.status, 404);
    assert_eq!(v.api.get(&v.path("/nothing/schema")).await.status, 404);
    assert_eq!(v.api.delete(&v.path("/nothing")).await.status, 404);
    assert_eq!(
        v.api.delete(&v.path("/things/no-such-id")).await.status,
        404
    );
}

#[tokio::test]
async fn permissions_follow_the_seed() {
    let v = Vault::new("vault permissions").await;
    v.collection(json!({"name": "notes", "fields": [{"name": "text", "field_type": "text"}]}))
        .await;
    let id = v.insert("notes", json!({"text": "hi"})).await;
    let reader = v.ws.key(&["vault:read"]).await;
    let writer = v.ws.key(&["vault:write"]).await;
    assert_eq!(reader.get(&v.path("")).await.status, 200);
    assert_eq!(
        reader.post(&v.path("/notes/query"), json!({})).await.status,
        200
    );
    assert_eq!(
        reader
            .post(&v.path("/notes"), json!({"record": {"text": "x"}}))
            .await
            .status,
        403
    );
    assert_eq!(
        writer
            .post(&v.path("/notes"), json!({"record": {"text": "x"}}))
            .await
            .status,
        201
    );
    assert_eq!(writer.get(&v.path("/notes/count")).await.status, 403);
    assert_eq!(
        writer.delete(&v.path(&format!("/notes/{id}"))).await.status,
        403
    );
    assert_eq!(writer.delete(&v.path("/notes")).await.status, 403);
    assert_eq!(
        writer
            .post(
                &v.path(""),
                json!({"schema": {"name": "y", "fields": [{"name": "a", "field_type": "text"}]}})
            )
            .await
            .status,
        403
    );
    assert_eq!(v.api.without_token().get(&v.path("")).await.status, 401);
    let stranger = Vault::new("vault permissions stranger").await;
    assert_eq!(stranger.api.get(&v.path("")).await.status, 403);

    // Not provisioned: 503.
    let bare = Workspace::create(support::shared(), "vault unprovisioned").await;
    let key = bare.key(&["vault:read"]).await;
    let resp = key
        .get(&format!("/v1/workspaces/{}/vault/collections", bare.id))
        .await;
    assert_eq!(resp.status, 503, "{}", resp.body);
}

#[tokio::test]
async fn vault_actions_are_audited_with_their_outcome_and_without_contents() {
    let v = Vault::new("vault audit").await;
    let before = chrono_now();
    v.collection(json!({"name": "secrets", "fields": [{"name": "value", "field_type": "text", "required": true}]})).await;
    let id = v.insert("secrets", json!({"value": "hunter2"})).await;
    let refused = v
        .api
        .post(&v.path("/secrets"), json!({"record": {"value": 5}}))
        .await;
    assert_eq!(refused.status, 400);
    v.query("secrets", json!({})).await;
    v.api.delete(&v.path(&format!("/secrets/{id}"))).await;
    v.api.delete(&v.path("/secrets")).await;

    let audit = format!("/v1/workspaces/{}/audit", v.ws.id);
    let resp = v.api.get(&audit).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert_eq!(resp.body["total"], 6);
    let items = resp.body["items"].as_array().unwrap();
    let actions: Vec<&str> = items
        .iter()
        .rev()
        .map(|i| i["action"].as_str().unwrap())
        .collect();
    assert_eq!(
        actions,
        [
            "vault.collection.create",
            "vault.record.create",
            "vault.record.create",
            "vault.query",
            "vault.record.delete",
            "vault.collection.drop"
        ]
    );
    let created = &items[4];
    assert_eq!(created["document_id"], id.as_str());
    assert_eq!(created["outcome"], "success");
    assert!(
        created["actor"].as_str().unwrap().starts_with("api_key:"),
        "{created}"
    );
    let failed = &items[3];
    assert_eq!(failed["outcome"], "failure");
    assert_eq!(failed["status"], 400);
    assert!(!resp.body.to_string().contains("hunter2"));

    // Filter by action and time, and paginate.
    let resp = v
        .api
        .get(&format!("{audit}?action=vault.record.create"))
        .await;
    assert_eq!(resp.body["total"], 2, "{}", resp.body);
    let resp = v.api.get(&format!("{audit}?since={before}&limit=4")).await;
    assert_eq!(resp.body["items"].as_array().unwrap().len(), 4);
    assert_eq!(resp.body["has_more"], true);
    assert_eq!(resp.body["next_offset"], 4);
    let resp = v
        .api
        .get(&format!("{audit}?until=2000-01-01T00:00:00Z"))
        .await;
    assert_eq!(resp.body["total"], 0);
    assert_eq!(v.api.get(&format!("{audit}?limit=0")).await.status, 400);
    assert_eq!(v.api.get(&format!("{audit}?colour=red")).await.status, 400);
    // Reading it takes the admin tier.
    let reader = v.ws.key(&["vault:read"]).await;
    assert_eq!(reader.get(&audit).await.status, 403);
}

/// Records of concurrent requests are committed together, each caller told when its
/// own is; a record the database refuses (a workspace that no longer exists) fails
/// alone and loses none of the records that went out with it.
#[tokio::test]
async fn concurrent_audit_records_are_committed_together_and_fail_alone() {
    let ws = Workspace::provisioned(support::shared(), "vault audit batches").await;
    let workspace = uuid::Uuid::parse_str(&ws.id).unwrap();
    let cluster = plinth::cluster::Cluster::from_url(&support::shared_cluster().url()).unwrap();
    let control = plinth::control::ControlDb::connect(&cluster).unwrap();
    let append = |workspace: uuid::Uuid, n: usize, action: &'static str| {
        let control = control.clone();
        tokio::spawn(async move {
            let document = n.to_string();
            control
                .audit(plinth::control::vault::AuditEntry {
                    workspace_id: workspace,
                    actor: "test",
                    action,
                    collection: "batched",
                    document_id: Some(&document),
                    status: if n.is_multiple_of(2) { 200 } else { 404 },
                })
                .await
        })
    };
    let calls: Vec<_> = (0..200).map(|n| append(workspace, n, "first")).collect();
    for call in calls {
        call.await.unwrap().unwrap();
    }
    let client = control.client().await.unwrap();
    let row = client
        .query_one(
            "SELECT count(*), count(DISTINCT xmin::text), count(*) FILTER (WHERE outcome = 'failure'),
                    count(DISTINCT document_id)
             FROM vault_audit WHERE workspace_id = $1 AND action = 'first'",
            &[&workspace],
        )
        .await
        .unwrap();
    let (records, transactions): (i64, i64) = (row.get(0), row.get(1));
    assert_eq!(records, 200);
    assert_eq!(row.get::<_, i64>(2), 100, "odd ones answered 404");
    assert_eq!(row.get::<_, i64>(3), 200);
    assert!(transactions < 200, "{transactions} commits for 200 records");

    let gone = uuid::Uuid::new_v4();
    let calls: Vec<_> = (0..200)
        .map(|n| {
            (
                n,
                append(if n % 10 == 3 { gone } else { workspace }, n, "mixed"),
            )
        })
        .collect();
    for (n, call) in calls {
        let outcome = call.await.unwrap();
        assert_eq!(outcome.is_err(), n % 10 == 3, "record {n}: {outcome:?}");
    }
    let kept: i64 = client
        .query_one(
            "SELECT count(*) FROM vault_audit WHERE workspace_id = $1 AND action = 'mixed'",
            &[&workspace],
        )
        .await
        .unwrap()
        .get(0);
    assert_eq!(kept, 180);
    control.close();
}

fn chrono_now() -> String {
    (chrono::Utc::now() - chrono::Duration::seconds(5))
        .format("%Y-%m-%dT%H:%M:%SZ")
        .to_string()
}

#[tokio::test]
async fn a_pagination_walk_returns_every_record_once() {
    let v = Vault::new("vault pagination").await;
    v.collection(json!({"name": "many", "fields": [{"name": "n", "field_type": "integer"}]}))
        .await;
    for n in 0..23 {
        v.insert("many", json!({"n": n})).await;
    }
    let mut seen = Vec::new();
    let mut offset = 0;
    loop {
        let resp = v
            .query("many", json!({"sort": ["n"], "limit": 5, "offset": offset}))
            .await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        assert_eq!(resp.body["total"], 23);
        for item in resp.body["items"].as_array().unwrap() {
            seen.push(item["n"].as_i64().unwrap());
        }
        if resp.body["has_more"] != true {
            assert_eq!(resp.body["next_offset"], serde_json::Value::Null);
            break;
        }
        offset = resp.body["next_offset"].as_u64().unwrap();
    }
    assert_eq!(seen, (0..23).collect::<Vec<_>>());
}

/// The postgres adapter's SQL capability runs as the workspace's vault role: it
/// reaches the `vault` schema and nothing else — not the customer's tables, not the
/// managed schemas, not another workspace's database.
#[tokio::test]
async fn the_sql_capability_reaches_only_the_vault_schema() {
    let v = Vault::new("vault role reach").await;
    let other = Vault::new("vault role reach other").await;
    let runtime = support::try_connect(&v.ws.reveal("runtime", false).await)
        .await
        .unwrap();
    runtime
        .batch_execute("CREATE TABLE tenant_custom.private (secret text); INSERT INTO tenant_custom.private VALUES ('x');")
        .await
        .unwrap();
    let db = v.ws.database();
    let vault_role = format!("{db}_vault");
    let superuser = support::workspace_superuser(&v.ws).await;
    superuser
        .batch_execute(&format!(
            "SET ROLE \"{vault_role}\"; CREATE TABLE vault.mine (a int); DROP TABLE vault.mine;"
        ))
        .await
        .expect("the vault role owns the vault schema");
    for sql in [
        "SELECT * FROM tenant_custom.private",
        "SELECT * FROM dl_resolved.people",
        "SELECT * FROM dl_cache.person_enrichments",
        "INSERT INTO dl_override.person_overrides (identity_key) VALUES ('x')",
        "CREATE TABLE tenant_custom.sneaky (a int)",
        "CREATE TABLE public.sneaky (a int)",
    ] {
        let error = superuser
            .batch_execute(&format!("SET ROLE \"{vault_role}\"; {sql}"))
            .await
            .expect_err(sql);
        assert!(
            support::db_message(&error).contains("permission denied"),
            "{sql}: {}",
            support::db_message(&error)
        );
        superuser.batch_execute("RESET ROLE").await.unwrap();
    }
    // Its login reaches no other workspace's database.
    let other_db = other.ws.database();
    let admin = support::pg_connect(&support::shared_cluster().db_url("postgres")).await;
    let can: bool = admin
        .query_one(
            "SELECT has_database_privilege($1, $2, 'CONNECT')",
            &[&vault_role, &other_db],
        )
        .await
        .unwrap()
        .get(0);
    assert!(!can);
}

#[tokio::test]
async fn a_postgres_engine_that_refuses_is_a_502_naming_it_and_service_resumes() {
    let v = Vault::new("vault postgres refuses").await;
    v.collection(json!({"name": "docs", "fields": [{"name": "a", "field_type": "text"}]}))
        .await;
    let db = v.ws.database();
    let admin = support::pg_connect(&support::shared_cluster().db_url("postgres")).await;
    admin
        .batch_execute(&format!(
            "ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS false;
             SELECT pg_terminate_backend(pid) FROM pg_stat_activity
              WHERE datname = '{db}' AND usename = '{db}_vault';"
        ))
        .await
        .unwrap();
    tokio::time::sleep(std::time::Duration::from_millis(200)).await;
    let resp = v.api.get(&v.path("/docs/count")).await;
    admin
        .batch_execute(&format!("ALTER DATABASE \"{db}\" ALLOW_CONNECTIONS true"))
        .await
        .unwrap();
    assert_eq!(resp.status, 502, "{}", resp.body);
    assert_eq!(resp.code(), "engine_unavailable");
    assert_eq!(resp.body["error"]["details"]["engine"], "postgres");
    let resp = v.api.get(&v.path("/docs/count")).await;
    assert_eq!(resp.status, 200, "{}", resp.body);
}

#[tokio::test]
async fn an_unknown_workspace_is_404() {
    let v = Vault::new("vault unknown workspace").await;
    let missing = "00000000-0000-4000-8000-000000000001";
    let resp =
        v.ws.admin
            .get(&format!("/v1/workspaces/{missing}/vault/collections"))
            .await;
    assert_eq!(resp.status, 404, "{}", resp.body);
    let resp =
        v.ws.admin
            .get("/v1/workspaces/not-a-uuid/vault/collections")
            .await;
    assert_eq!(resp.status, 404, "{}", resp.body);
}

#[tokio::test]
async fn a_collection_dropped_and_created_again_on_one_replica_is_the_new_one_on_the_other() {
    let url = support::shared_cluster().url();
    let a = support::Plinth::start(support::ServerOptions {
        database_url: Some(url.clone()),
        ..Default::default()
    });
    // Replicas share the key that seals the workspaces' stored passwords.
    let sealing = a.data_dir.join("secret-key");
    assert!(sealing.exists(), "{}", sealing.display());
    let b = support::Plinth::start(support::ServerOptions {
        database_url: Some(url),
        env: vec![(
            "PLINTH_SECRET_KEY_FILE".into(),
            sealing.display().to_string(),
        )],
        ..Default::default()
    });
    let on_a = Vault::on(&a, "vault replicas").await;
    let schema = |required: &str| {
        json!({
            "name": "notes",
            "engine": "postgres",
            "json_schema": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "body": {"type": "string"}},
                "required": [required]
            }
        })
    };
    on_a.collection(schema("title")).await;
    let (_, key) = on_a.ws.key_with_id(&["vault:read", "vault:write"]).await;
    let on_b = b.anonymous().with_token(&key);
    let insert = |record: serde_json::Value| {
        let (api, path) = (on_b.clone(), on_a.path("/notes"));
        async move { api.post(&path, json!({ "record": record })).await }
    };
    // Replica B knows the collection now.
    let resp = insert(json!({"title": "t"})).await;
    assert_eq!(resp.status, 201, "{}", resp.body);
    assert_eq!(insert(json!({"body": "b"})).await.status, 400);

    assert_eq!(on_a.api.delete(&on_a.path("/notes")).await.status, 204);
    on_a.collection(schema("body")).await;

    // B follows at once: the new schema, and the new storage (the old one is gone).
    let resp = insert(json!({"body": "b"})).await;
    assert_eq!(
        resp.status, 201,
        "replica B used the dropped collection: {}",
        resp.body
    );
    assert_eq!(insert(json!({"title": "t"})).await.status, 400);
    let count = on_b.get(&on_a.path("/notes/count")).await;
    assert_eq!(count.body, json!({"count": 1}));
}

/// Another replica dropped a collection and created it again, and its message has not
/// arrived: this process still has the old record, whose storage is gone and whose
/// schema is no longer the collection's. Calls follow the collection as it now is.
/// "Elsewhere" is the control database changed with triggers off, so no message is
/// sent at all.
#[tokio::test]
async fn a_collection_replaced_elsewhere_is_followed_before_its_message() {
    let v = Vault::new("vault replaced elsewhere").await;
    let ws: uuid::Uuid = v.ws.id.parse().unwrap();
    let schema = |name: &str, required: &str| {
        json!({
            "name": name,
            "engine": "postgres",
            "json_schema": {
                "type": "object",
                "properties": {"title": {"type": "string"}, "body": {"type": "string"}},
                "required": [required]
            }
        })
    };
    let insert = |record: serde_json::Value| {
        let (api, path) = (v.api.clone(), v.path("/notes"));
        async move { api.post(&path, json!({ "record": record })).await }
    };
    let control = support::pg_connect(&support::shared_cluster().db_url("plinth_control")).await;
    control
        .batch_execute("SET session_replication_role = replica")
        .await
        .unwrap();
    let superuser = support::workspace_superuser(&v.ws).await;
    // Drops `notes` and its storage.
    let drop_notes = || {
        let (control, superuser) = (&control, &superuser);
        async move {
            let storage: String = control
                .query_one(
                    "DELETE FROM vault_collections WHERE workspace_id = $1 AND name = 'notes'
                     RETURNING storage_name",
                    &[&ws],
                )
                .await
                .unwrap()
                .get(0);
            superuser
                .batch_execute(&format!("DROP TABLE vault.\"{storage}\""))
                .await
                .unwrap();
        }
    };
    // Drops `notes`, and renames `replacement` to `notes`.
    let replace_notes_with = |replacement: &'static str| {
        let (control, drop_notes) = (&control, &drop_notes);
        async move {
            drop_notes().await;
            control
                .execute(
                    "UPDATE vault_collections SET name = 'notes' WHERE workspace_id = $1 AND name = $2",
                    &[&ws, &replacement],
                )
                .await
                .unwrap();
        }
    };

    v.collection(schema("notes", "title")).await;
    v.collection(schema("needs_body", "body")).await;
    assert_eq!(insert(json!({"title": "cached"})).await.status, 201);

    // The old schema takes this document, but its storage is gone: the new schema
    // decides, and refuses it.
    replace_notes_with("needs_body").await;
    let resp = insert(json!({"title": "t"})).await;
    assert_eq!(resp.status, 400, "{}", resp.body);
    assert_eq!(resp.body["error"]["code"], "validation_failed");
    let resp = insert(json!({"body": "b"})).await;
    assert_eq!(resp.status, 201, "{}", resp.body);

    // The cached schema refuses what the new one takes.
    v.collection(schema("needs_title", "title")).await;
    replace_notes_with("needs_title").await;
    let resp = insert(json!({"title": "t"})).await;
    assert_eq!(resp.status, 201, "the old schema decided: {}", resp.body);
    let count = v.api.get(&v.path("/notes/count")).await;
    assert_eq!(count.body, json!({"count": 1}));

    // Dropped elsewhere, not created again: the collection does not exist.
    drop_notes().await;
    let resp = v.api.get(&v.path("/notes/count")).await;
    assert_eq!(resp.status, 404, "{}", resp.body);
    assert_eq!(
        resp.body["error"]["message"], "collection `notes` does not exist",
        "{}",
        resp.body
    );
}

/// A vault call whose client goes away mid-transaction is rolled back, and its
/// connection (the vault role's) goes back to the pool rather than being closed.
#[tokio::test]
async fn a_vault_write_whose_client_goes_away_rolls_back_and_keeps_its_connection() {
    let v = Vault::new("vault cancelled write").await;
    v.collection(json!({
        "name": "slow",
        "engine": "postgres",
        "json_schema": { "type": "object", "properties": { "n": { "type": "integer" } } }
    }))
    .await;
    // The insert takes a second, and notes which backend ran it (a sequence keeps
    // the number through the rollback).
    let superuser = support::workspace_superuser(&v.ws).await;
    let table: String = superuser
        .query_one(
            "SELECT format('%I.%I', schemaname, tablename) FROM pg_tables WHERE schemaname = 'vault'",
            &[],
        )
        .await
        .unwrap()
        .get(0);
    support::slow_inserts(&superuser, "vault", &table).await;
    let (_, key) = v.ws.key_with_id(&["vault:write"]).await;
    let impatient = reqwest::Client::builder()
        .timeout(std::time::Duration::from_millis(300))
        .build()
        .unwrap();
    let gone = impatient
        .post(format!("{}{}", v.api.base(), v.path("/slow")))
        .bearer_auth(&key)
        .json(&json!({ "record": { "n": 1 } }))
        .send()
        .await;
    match gone {
        Err(error) => assert!(error.is_timeout(), "{error}"),
        Ok(resp) => panic!(
            "the client should have given up before the answer: {}",
            resp.text().await.unwrap_or_default()
        ),
    }
    tokio::time::sleep(std::time::Duration::from_millis(2000)).await;
    let state = support::slow_backend_state(&superuser, "vault").await;
    assert_eq!(
        state.as_deref(),
        Some("idle"),
        "the connection is pooled again, with no transaction open"
    );
    let stored: i64 = superuser
        .query_one(&format!("SELECT count(*) FROM {table}"), &[])
        .await
        .unwrap()
        .get(0);
    assert_eq!(stored, 0, "the abandoned write rolled back");
}
