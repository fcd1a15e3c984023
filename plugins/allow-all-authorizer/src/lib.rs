//! The built-in row authorizer: every action is allowed with no extra predicate;
//! PostgreSQL's row-level security policies still apply.

wit_bindgen::generate!({
    path: "../../wit/authorizer",
    world: "row-authorizer",
});

use exports::plinth::authorizer::authorizer::Guest;
use plinth::authorizer::types::{Action, Decision, Relation, RequestContext};

struct AllowAll;

impl Guest for AllowAll {
    fn authorize(_context: RequestContext, _relation: Relation, _action: Action) -> Decision {
        Decision::Allow(Vec::new())
    }
}

export!(AllowAll);
