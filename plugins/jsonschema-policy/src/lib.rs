//! The built-in validation policy: a document must satisfy its target's JSON Schema
//! (draft 2020-12 unless the schema says otherwise). Compiled schemas are kept per
//! schema key for the life of the instance, which the host reuses within one
//! workspace only.

wit_bindgen::generate!({
    path: "../../wit/validation",
    world: "validation-policy",
});

use std::cell::RefCell;
use std::collections::HashMap;

use exports::plinth::validation::policy::Guest;
use plinth::validation::types::{Operation, Target, Verdict, Violation};

/// Compiled schemas kept at once.
const MAX_CACHED_SCHEMAS: usize = 64;
/// Violations reported at most.
const MAX_VIOLATIONS: usize = 100;

thread_local! {
    static VALIDATORS: RefCell<HashMap<String, jsonschema::Validator>> = RefCell::new(HashMap::new());
}

struct JsonSchemaPolicy;

fn compile(schema: &str) -> Result<jsonschema::Validator, String> {
    let schema: serde_json::Value =
        serde_json::from_str(schema).map_err(|e| format!("the schema is not JSON: {e}"))?;
    jsonschema::options()
        .with_draft(jsonschema::Draft::Draft202012)
        .build(&schema)
        .map_err(|e| format!("the schema is not a valid JSON Schema: {e}"))
}

impl Guest for JsonSchemaPolicy {
    fn validate(
        _target: Target,
        _operation: Operation,
        schema_key: String,
        schema: String,
        document: String,
    ) -> Result<Verdict, String> {
        let document: serde_json::Value = match serde_json::from_str(&document) {
            Ok(d) => d,
            Err(e) => {
                return Ok(Verdict::Reject(vec![Violation {
                    path: String::new(),
                    message: format!("the document is not JSON: {e}"),
                }]))
            }
        };
        VALIDATORS.with(|cache| {
            let mut cache = cache.borrow_mut();
            if !cache.contains_key(&schema_key) {
                if cache.len() >= MAX_CACHED_SCHEMAS {
                    cache.clear();
                }
                cache.insert(schema_key.clone(), compile(&schema)?);
            }
            let validator = &cache[&schema_key];
            let violations: Vec<Violation> = validator
                .iter_errors(&document)
                .take(MAX_VIOLATIONS)
                .map(|e| Violation {
                    path: e.instance_path.to_string(),
                    message: e.to_string(),
                })
                .collect();
            Ok(if violations.is_empty() {
                Verdict::Accept
            } else {
                Verdict::Reject(violations)
            })
        })
    }
}

export!(JsonSchemaPolicy);
