//! The built-in components through the real runtime: parse, validate, authorize, and
//! warm-instance reuse.

use plinth::plugins::authorizer_types::{
    Action, CredentialKind, Decision, Relation, RequestContext, Scopes,
};
use plinth::plugins::validation_types::{Operation, Target, TargetKind, Verdict};
use plinth::plugins::PluginKind;
use plinth::request::{FilterTree, Operand, Operator, SelectItem};

use super::{limits, runtime};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_filter_parser_returns_a_typed_query() {
    let rt = runtime(&limits(1000, 8), None).await;
    let ws = uuid::Uuid::new_v4();
    let query = rt
        .parse_query(ws, "select=id,name,customer:customers(name)&price=gte.50&or=(a.eq.1,b.is.null)&order=price.desc&limit=20")
        .await
        .expect("the plugin answers")
        .expect("the query parses");
    assert_eq!(query.select.len(), 3);
    assert!(
        matches!(&query.select[2], SelectItem::Embed(e) if e.relation == "customers" && e.children.len() == 1)
    );
    let FilterTree::Condition(c) = &query.filters[0].tree else {
        panic!("a condition")
    };
    assert!(matches!(&query.filters[1].tree, FilterTree::Any(children) if children.len() == 2));
    assert_eq!(c.field.name, "price");
    assert!(matches!(c.op, Operator::Gte));
    assert!(matches!(&c.operand, Operand::Value(v) if v == "50"));
    assert_eq!(query.limit, Some(20));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_empty_query_string_is_what_the_builtin_parser_makes_of_it() {
    let rt = runtime(&limits(1000, 8), None).await;
    let ws = uuid::Uuid::new_v4();
    let shortcut = rt
        .parse_query(ws, "")
        .await
        .expect("no plugin needed")
        .expect("the empty query");
    assert_eq!(
        rt.idle_instances(PluginKind::FilterParser),
        0,
        "the empty query string did not enter the sandbox"
    );
    let builtin = rt
        .resolve(PluginKind::FilterParser, Some(ws))
        .await
        .expect("the built-in parser");
    let parsed = rt
        .parse_with(&builtin, Some(ws), "")
        .await
        .expect("the plugin answers")
        .expect("the empty string parses");
    assert_eq!(rt.idle_instances(PluginKind::FilterParser), 1);
    assert_eq!(format!("{parsed:?}"), format!("{:?}", *shortcut));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parse_errors_come_back_positioned_not_as_failures() {
    let rt = runtime(&limits(1000, 8), None).await;
    let err = rt
        .parse_query(uuid::Uuid::new_v4(), "select=id&price=gtx.5")
        .await
        .expect("the plugin answers")
        .expect_err("the query is refused");
    assert_eq!(err.parameter, "price");
    assert_eq!(err.position, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn warm_instances_are_reused_per_workspace() {
    let rt = runtime(&limits(1000, 8), None).await;
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    assert_eq!(rt.idle_instances(PluginKind::FilterParser), 0);
    for _ in 0..5 {
        rt.parse_query(a, "limit=1").await.unwrap().unwrap();
    }
    assert_eq!(
        rt.idle_instances(PluginKind::FilterParser),
        1,
        "one instance served workspace a"
    );
    rt.parse_query(b, "limit=1").await.unwrap().unwrap();
    assert_eq!(
        rt.idle_instances(PluginKind::FilterParser),
        2,
        "workspace b got its own"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_policy_validates_against_json_schema_2020_12() {
    let rt = runtime(&limits(2000, 8), None).await;
    let ws = uuid::Uuid::new_v4();
    let schema = r#"{"type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0}},"required":["name"]}"#;
    let target = Target {
        kind: TargetKind::Collection,
        name: "people".into(),
    };
    let ok = rt
        .validate_document(
            ws,
            &target,
            Operation::Create,
            "k1",
            schema,
            r#"{"name":"Ada","age":36}"#,
        )
        .await
        .unwrap();
    assert!(matches!(ok, Verdict::Accept));
    let bad = rt
        .validate_document(
            ws,
            &target,
            Operation::Create,
            "k1",
            schema,
            r#"{"age":-1}"#,
        )
        .await
        .unwrap();
    let Verdict::Reject(violations) = bad else {
        panic!("rejected")
    };
    assert_eq!(violations.len(), 2, "{violations:?}");
    assert!(violations.iter().any(|v| v.path == "/age"));
    assert!(violations.iter().any(|v| v.message.contains("name")));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_builtin_authorizer_allows_everything() {
    let rt = runtime(&limits(1000, 8), None).await;
    let ctx = RequestContext {
        workspace_id: "w".into(),
        tenant_id: "t".into(),
        subject: "u".into(),
        credential: CredentialKind::Jwt,
        scopes: Scopes::POSTGRES_READ,
        claims: "{}".into(),
    };
    let relation = Relation {
        schema: "tenant_custom".into(),
        name: "orders".into(),
    };
    let decision = rt
        .authorize(uuid::Uuid::new_v4(), &ctx, &relation, Action::Select)
        .await
        .unwrap();
    assert!(matches!(decision, Decision::Allow(p) if p.is_empty()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_repeated_query_string_is_answered_from_the_parse_cache_of_its_workspace() {
    let rt = runtime(&limits(1000, 8), None).await;
    let (a, b) = (uuid::Uuid::new_v4(), uuid::Uuid::new_v4());
    let query = "select=id&price=gte.50&limit=5";
    let first = rt.parse_query(a, query).await.unwrap().unwrap();
    let again = rt.parse_query(a, query).await.unwrap().unwrap();
    assert!(
        std::sync::Arc::ptr_eq(&first, &again),
        "the second parse is the cached one"
    );
    let other = rt.parse_query(b, query).await.unwrap().unwrap();
    assert!(
        !std::sync::Arc::ptr_eq(&first, &other),
        "another workspace never shares an entry"
    );
    assert_eq!(
        format!("{first:?}"),
        format!("{other:?}"),
        "but gets the same answer"
    );
    // Refusals are answers too, cached like the rest, and still positioned.
    let refused = rt.parse_query(a, "limit=x").await.unwrap().unwrap_err();
    let refused_again = rt.parse_query(a, "limit=x").await.unwrap().unwrap_err();
    assert_eq!(refused.position, refused_again.position);
}
