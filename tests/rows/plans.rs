//! The Data API's statements as PostgreSQL plans them: the statement Plinth builds for
//! a read by key must settle on a generic plan, or PostgreSQL plans it again on every
//! request (an `OFFSET` parameter did that: the generic estimate looked twice as dear).

use std::collections::HashMap;

use plinth::plan::CountMode;
use plinth::request::Query;

use super::Fixture;
use crate::support;

/// Executions after which PostgreSQL weighs a generic plan (its `plancache.c` makes
/// five custom plans first).
const CUSTOM_PLANS_FIRST: usize = 5;

#[tokio::test]
async fn a_read_by_key_is_planned_once_not_on_every_request() {
    let fx = Fixture::new("generic-plan").await;
    let db = support::workspace_superuser(&fx.ws).await;
    let schema = plinth::schema_cache::load(&db, &HashMap::new())
        .await
        .expect("catalog");
    let relation = schema.relation("products").expect("products").clone();
    let everything = Query::default();
    let plan =
        plinth::plan::read::plan(&schema, &relation, &everything, CountMode::None, Some("1"))
            .expect("plan");
    let statement = plinth::sql::rows::read(&plan, Some(schema.version_source), None);
    let prepared = db
        .prepare_typed(&statement.text, &statement.types())
        .await
        .expect("prepare");
    for _ in 0..CUSTOM_PLANS_FIRST + 2 {
        db.query_one(&prepared, &statement.values())
            .await
            .expect("the read");
    }
    let (generic, custom): (i64, i64) = db
        .query_one(
            "SELECT generic_plans, custom_plans FROM pg_prepared_statements WHERE statement = $1",
            &[&statement.text],
        )
        .await
        .map(|row| (row.get(0), row.get(1)))
        .expect("the prepared statement");
    assert!(
        generic > 0,
        "{generic} generic and {custom} custom plans for {}",
        statement.text
    );
}
