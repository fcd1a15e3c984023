//! The Data API's statements, built from plans over a hand-made schema.

use std::sync::Arc;

use super::{read, read_batch, reusable_count, Param};
use crate::plan::{read::plan, CountMode};
use crate::request::{Condition, Field, Filter, FilterTree, Operand, Operator, Query};
use crate::schema_cache::{Column, RelKind, Relation, SchemaCache, VersionSource};

fn column(name: &str, ty: &str) -> Column {
    Column {
        name: name.into(),
        sql_type: ty.to_owned(),
        cast_type: ty.into(),
        nullable: false,
        has_default: false,
        generated: false,
    }
}

fn products() -> (SchemaCache, Arc<Relation>) {
    let relation = Relation {
        oid: 16384,
        schema: "tenant_custom".into(),
        name: "products".into(),
        exposed: "products".into(),
        kind: RelKind::Table,
        read_only: false,
        columns: vec![column("id", "bigint"), column("name", "text")],
        primary_key: vec!["id".into()],
        context_free: true,
        changes_tracked: false,
    };
    let schema = SchemaCache::new(7, VersionSource::Constant, 1, vec![relation], Vec::new());
    let relation = schema.relation("products").cloned().expect("products");
    (schema, relation)
}

fn everything() -> Query {
    Query::default()
}

#[test]
fn a_read_by_key_counts_nothing_but_its_page() {
    let (schema, relation) = products();
    let by_key = plan(
        &schema,
        &relation,
        &everything(),
        CountMode::None,
        Some("42"),
    )
    .unwrap();
    let statement = read(&by_key, Some(VersionSource::Constant), None);
    assert_eq!(
        statement.text,
        "SELECT coalesce(json_agg(pgrst_page)::text, '[]'), count(*), NULL::bigint, \
         dl_meta.schema_version() FROM (SELECT t0.\"id\" AS \"id\", t0.\"name\" AS \"name\" \
         FROM \"tenant_custom\".\"products\" AS t0 WHERE t0.\"id\" = $1::bigint \
         LIMIT $2) AS pgrst_page"
    );
    assert_eq!(
        statement.params,
        vec![Param::Text("42".into()), Param::Int(1)]
    );
}

#[test]
fn a_batch_runs_the_read_once_for_each_row_of_its_values() {
    let (schema, relation) = products();
    let by_key = |key: &str| {
        plan(
            &schema,
            &relation,
            &everything(),
            CountMode::None,
            Some(key),
        )
        .unwrap()
    };
    let version = Some(VersionSource::Constant);
    let batch = read_batch(&by_key("42"), version, None).expect("a read by key batches");
    assert_eq!(
        batch.text,
        "SELECT pgrst_q.*, pgrst_batch.pgrst_n FROM unnest($1) WITH ORDINALITY \
         AS pgrst_batch(p1, pgrst_n) CROSS JOIN LATERAL (SELECT \
         coalesce(json_agg(pgrst_page)::text, '[]'), count(*), NULL::bigint, \
         dl_meta.schema_version() FROM (SELECT t0.\"id\" AS \"id\", t0.\"name\" AS \"name\" \
         FROM \"tenant_custom\".\"products\" AS t0 WHERE t0.\"id\" = pgrst_batch.p1::bigint \
         LIMIT $2) AS pgrst_page) AS pgrst_q"
    );
    let (one, two) = (
        read(&by_key("1"), version, None),
        read(&by_key("2"), version, None),
    );
    let values = batch.values(&[&one, &two]).expect("the reads line up");
    assert_eq!(
        format!("{values:?}"),
        r#"[["1", "2"], 1]"#,
        "one array of each parameter but the limit, which all share"
    );
    // A read whose parameters are not the batch's is refused, not mixed in.
    let list = read(
        &plan(&schema, &relation, &everything(), CountMode::None, None).unwrap(),
        version,
        None,
    );
    assert!(batch.values(&[&one, &list]).is_none());

    // Nor are reads of another page size: the limit is the planner's to know.
    let mut larger = read(&by_key("3"), version, None);
    larger.params[1] = Param::Int(2);
    assert!(batch.values(&[&one, &larger]).is_none());
}

#[test]
fn a_list_counts_its_filter_exactly_unless_told_to_estimate() {
    let (schema, relation) = products();
    let exact = plan(&schema, &relation, &everything(), CountMode::Exact, None).unwrap();
    let text = read(&exact, None, None).text;
    assert!(
        text.starts_with(
            "SELECT coalesce(json_agg(pgrst_page)::text, '[]'), count(*), \
             (SELECT count(*) FROM \"tenant_custom\".\"products\" AS t0) FROM ("
        ),
        "{text}"
    );
    let estimated = plan(
        &schema,
        &relation,
        &everything(),
        CountMode::Estimated,
        None,
    )
    .unwrap();
    let text = read(&estimated, None, None).text;
    assert!(text.contains("count(*), NULL::bigint FROM ("), "{text}");
    assert!(estimated.count.wants_estimate() && !exact.count.wants_estimate());
}

#[test]
fn a_count_that_may_be_reused_runs_only_when_the_tables_write_counter_moved() {
    let (schema, relation) = products();
    let exact = plan(&schema, &relation, &everything(), CountMode::Exact, None).unwrap();
    let statement = read(&exact, None, Some(41));
    assert!(
        statement.text.starts_with(&format!(
            "SELECT coalesce(json_agg(pgrst_page)::text, '[]'), count(*), \
             (SELECT CASE WHEN pgrst_changes.n = $1 THEN NULL ELSE ARRAY[(SELECT count(*) \
             FROM \"tenant_custom\".\"products\" AS t0), pgrst_changes.n] END \
             FROM (SELECT coalesce(sum(changes), 0)::bigint AS n FROM dl_meta.table_changes \
             WHERE relid = {}) AS pgrst_changes) FROM (",
            relation.oid
        )),
        "{}",
        statement.text
    );
    assert_eq!(statement.params, vec![Param::Int(41), Param::Int(20)]);
}

/// `name=eq.{value}`.
fn name_is(value: &str) -> Query {
    let mut query = everything();
    query.filters.push(Filter {
        path: Vec::new(),
        tree: FilterTree::Condition(Condition {
            field: Field {
                name: "name".into(),
                json_path: Vec::new(),
            },
            op: Operator::Eq,
            operand: Operand::Value(value.into()),
        }),
    });
    query
}

#[test]
fn only_an_exact_count_of_a_tracked_table_off_the_clock_is_reusable() {
    let (schema, relation) = products();
    let untracked = plan(&schema, &relation, &everything(), CountMode::Exact, None).unwrap();
    assert!(reusable_count(&untracked).is_none(), "writes not counted");
    let mut tracked = (*relation).clone();
    tracked.changes_tracked = true;
    let tracked = Arc::new(tracked);
    let exact = plan(&schema, &tracked, &name_is("cable"), CountMode::Exact, None).unwrap();
    let count = reusable_count(&exact).expect("reusable");
    assert_eq!(
        count.text,
        "SELECT count(*) FROM \"tenant_custom\".\"products\" AS t0 WHERE t0.\"name\" = $1::text"
    );
    assert_eq!(count.params, vec![Param::Text("cable".into())]);
    for clock in ["now", "Today", "tomorrow 10:00", "yesterday"] {
        let on_clock = plan(&schema, &tracked, &name_is(clock), CountMode::Exact, None).unwrap();
        assert!(reusable_count(&on_clock).is_none(), "{clock}");
    }
    let estimated = plan(&schema, &tracked, &everything(), CountMode::Estimated, None).unwrap();
    assert!(reusable_count(&estimated).is_none(), "no exact count");
    let by_key = plan(&schema, &tracked, &everything(), CountMode::None, Some("1")).unwrap();
    assert!(reusable_count(&by_key).is_none(), "no count at all");
}

#[test]
fn an_offset_is_bound_only_when_it_skips_rows() {
    let (schema, relation) = products();
    let mut query = everything();
    query.offset = Some(40);
    let page = plan(&schema, &relation, &query, CountMode::Exact, None).unwrap();
    let statement = read(&page, None, None);
    assert!(
        statement
            .text
            .ends_with("LIMIT $1 OFFSET $2) AS pgrst_page"),
        "{}",
        statement.text
    );
    assert_eq!(statement.params, vec![Param::Int(20), Param::Int(40)]);
}
