//! An example row authorizer for tenants to start from.
//!
//! Every action on a table whose name ends in `_owned` (or is `notes`) is limited to
//! rows whose `owner_id` equals the caller's subject (the JWT `sub`); callers without
//! a subject are refused. Everything else is allowed as is.

wit_bindgen::generate!({
    path: "../../wit/authorizer",
    world: "row-authorizer",
});

use exports::plinth::authorizer::authorizer::Guest;
use plinth::authorizer::types::{
    Action, Comparison, Decision, Predicate, PredicateValue, Relation, RequestContext,
};

/// The column that names a row's owner.
const OWNER_COLUMN: &str = "owner_id";

struct OwnerOnly;

fn owned(relation: &Relation) -> bool {
    relation.name.ends_with("_owned") || relation.name == "notes"
}

impl Guest for OwnerOnly {
    fn authorize(context: RequestContext, relation: Relation, _action: Action) -> Decision {
        if !owned(&relation) {
            return Decision::Allow(Vec::new());
        }
        if context.subject.is_empty() {
            return Decision::Deny(format!(
                "`{}` rows belong to their owners; authenticate as a user",
                relation.name
            ));
        }
        Decision::Allow(vec![Predicate {
            column: OWNER_COLUMN.into(),
            comparison: Comparison::Eq,
            value: PredicateValue::Subject,
        }])
    }
}

export!(OwnerOnly);
