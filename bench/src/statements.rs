//! The Data API ceilings' SQL, made by Plinth itself. Each read scenario's query
//! string is parsed by the built-in filter parser (through Plinth's plugin runtime),
//! planned against the workspace's live catalog (`plinth::schema_cache::load`) and
//! built by `plinth::sql::rows`, as a request is; so a ceiling runs the statement
//! Plinth sends and cannot drift from it when the SQL builder changes. A statement
//! becomes a pgbench script by turning its parameters into pgbench variables: the
//! values wrk sends at random become random variables, the others fixed ones.

use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::Path;
use std::sync::Arc;

use anyhow::{bail, Context};
use plinth::config::{PluginLimits, PluginSettings};
use plinth::plan::CountMode;
use plinth::plugins::{Plugin, PluginKind, PluginRuntime};
use plinth::schema_cache::SchemaCache;
use plinth::sql::rows;
use plinth::sql::statement::{Param, Statement};

/// A value wrk puts into requests at random, and how pgbench draws the same.
pub struct Random {
    /// The value in the request the statement is built from.
    pub sample: &'static str,
    /// The pgbench meta-command drawing the variable.
    pub draw: &'static str,
    /// What stands for the parameter in the script.
    pub expression: &'static str,
}

/// A product id (`{id}` in wrk's path).
pub const PRODUCT_ID: Random = Random {
    sample: "4242",
    draw: r"\set id random(1, 1000000)",
    expression: ":id",
};

/// A category (`{cat}` in wrk's path): `cat0` to `cat49`.
pub const CATEGORY: Random = Random {
    sample: "cat7",
    draw: r"\set c random(0, 49)",
    expression: "('cat' || :c)",
};

/// A login with exactly the privileges of Plinth's API role in workspace `ws` (a
/// member of it, created by `superuser`), at the address of `superuser_uri`: the
/// Data API's ceilings run as what Plinth runs as, and only that role may call
/// `dl_meta.schema_version()`, which Plinth's reads carry.
pub async fn api_role_uri(
    superuser: &tokio_postgres::Client,
    superuser_uri: &str,
    ws: &str,
) -> anyhow::Result<String> {
    let workspace = uuid::Uuid::parse_str(ws).context("the workspace id")?;
    let api = plinth::names::role(workspace, plinth::control::roles::RoleKind::Api);
    let password = uuid::Uuid::new_v4().simple().to_string();
    superuser
        .batch_execute(&format!(
            "CREATE ROLE plinth_bench_api LOGIN PASSWORD '{password}' IN ROLE \"{api}\""
        ))
        .await
        .context("creating the ceiling's member of the API role")?;
    let (_, address) = superuser_uri
        .rsplit_once('@')
        .context("a superuser URI with credentials")?;
    Ok(format!(
        "postgresql://plinth_bench_api:{password}@{address}"
    ))
}

/// Plinth's planner and SQL builder over the workspace's catalog as it is now.
pub struct Builder {
    schema: SchemaCache,
    runtime: Arc<PluginRuntime>,
    parser: Arc<Plugin>,
}

impl Builder {
    /// Reads the catalog through `client` (the workspace's database, as the API role,
    /// as Plinth reads it) and readies the built-in filter parser, compiled into
    /// `cache_dir`.
    pub async fn new(client: &tokio_postgres::Client, cache_dir: &Path) -> anyhow::Result<Self> {
        let schema = plinth::schema_cache::load(client, &HashMap::new())
            .await
            .context("reading the workspace's catalog")?;
        let settings = PluginSettings::uniform(PluginLimits {
            deadline: std::time::Duration::from_millis(500),
            memory_bytes: 16 << 20,
            max_instances: 2,
        });
        let runtime = PluginRuntime::new(&settings, Some(cache_dir.to_owned()), None, None).await?;
        let parser = runtime.resolve(PluginKind::FilterParser, None).await?;
        Ok(Self {
            schema,
            runtime,
            parser,
        })
    }

    /// What Plinth sends for a Data API read scenario's request (`path` as wrk sends
    /// it, with `{id}` and `{cat}` standing for [`PRODUCT_ID`] and [`CATEGORY`]), as
    /// the handlers choose the count: none for a read by key, the estimate for
    /// `Prefer: count=estimated`, else exact; and an exact count that Plinth may
    /// reuse as it sends it in the scenario's steady state ([`Counter`]).
    pub async fn request(
        &self,
        path: &str,
        prefer: Option<&str>,
        counter: Counter<'_>,
    ) -> anyhow::Result<Vec<Statement>> {
        let filled = path
            .replace("{id}", PRODUCT_ID.sample)
            .replace("{cat}", CATEGORY.sample);
        let (resource, query) = filled.split_once('?').unwrap_or((&filled, ""));
        let (_, rows) = resource
            .split_once("/rows/")
            .with_context(|| format!("`{path}` is no Data API path"))?;
        let (table, key) = match rows.split_once('/') {
            Some((table, key)) => (table, Some(key)),
            None => (rows, None),
        };
        let count = if key.is_some() {
            CountMode::None
        } else if prefer.is_some_and(|p| p.contains("count=estimated")) {
            CountMode::Estimated
        } else {
            CountMode::Exact
        };
        self.read(table, query, count, key, counter).await
    }

    /// What Plinth sends for `GET rows/{table}[/{key}]?{query}`: the read, and for
    /// `count=estimated` the `EXPLAIN` it runs beside it. Every table of the data set
    /// is context-free, so Plinth reads it in one statement that carries the schema
    /// version, and so does this. A count Plinth may reuse
    /// (`plinth::sql::rows::reusable_count`) carries the write counter `counter`
    /// says, as Plinth's does.
    pub async fn read(
        &self,
        table: &str,
        query: &str,
        count: CountMode,
        key: Option<&str>,
        counter: Counter<'_>,
    ) -> anyhow::Result<Vec<Statement>> {
        let parsed = self
            .runtime
            .parse_with(&self.parser, None, query)
            .await?
            .map_err(|e| anyhow::anyhow!("the parser refused `{query}`: {}", e.message))?;
        let relation = self
            .schema
            .relation(table)
            .with_context(|| format!("no relation `{table}` in the catalog"))?;
        let plan = plinth::plan::read::plan(&self.schema, relation, &parsed, count, key)
            .map_err(|e| anyhow::anyhow!("planning `{table}?{query}`: {e}"))?;
        let known = match counter {
            _ if rows::reusable_count(&plan).is_none() => None,
            Counter::Unchanged(client) => Some(
                client
                    .query_one(
                        "SELECT coalesce(sum(changes), 0)::bigint FROM dl_meta.table_changes \
                         WHERE relid = $1",
                        &[&plan.relation.oid],
                    )
                    .await
                    .context("reading the table's write counter")?
                    .get(0),
            ),
            Counter::Moving => Some(-1),
        };
        let mut statements = vec![rows::read(&plan, Some(self.schema.version_source), known)];
        if count.wants_estimate() {
            statements.push(rows::estimate(&plan));
        }
        Ok(statements)
    }
}

/// The write counter a read's reusable count carries, as Plinth's would in the
/// scenario's steady state.
#[derive(Clone, Copy)]
pub enum Counter<'a> {
    /// No write runs during the scenario: the table's counter as it stands (read
    /// through this client), so PostgreSQL finds it unchanged and skips the count,
    /// as it does for Plinth once it remembers the count.
    Unchanged(&'a tokio_postgres::Client),
    /// Writes run beside the scenario: a counter that never matches, so the count
    /// runs on every read, as it does for Plinth once its remembered counts are
    /// always stale.
    Moving,
}

/// A pgbench script running `statements` in order, with every parameter a pgbench
/// variable (pgbench `-M prepared` binds each as a parameter): the ones whose value
/// is a `randoms` sample are drawn as wrk draws them, the integers are fixed, and
/// any other value is refused, so that a changed statement fails loudly here.
pub fn pgbench_script(statements: &[Statement], randoms: &[Random]) -> anyhow::Result<String> {
    let mut script = String::new();
    for random in randoms {
        script.push_str(random.draw);
        script.push('\n');
    }
    for (s, statement) in statements.iter().enumerate() {
        let mut names = Vec::with_capacity(statement.params.len());
        for (i, param) in statement.params.iter().enumerate() {
            let fixed = format!("p{s}_{}", i + 1);
            let name = match param {
                Param::Text(v) => match randoms.iter().find(|r| r.sample == v) {
                    Some(random) => random.expression.to_owned(),
                    None if v.parse::<i64>().is_ok() => {
                        writeln!(script, r"\set {fixed} {v}")?;
                        format!(":{fixed}")
                    }
                    None => bail!("no pgbench variable for the parameter `{v}`"),
                },
                Param::Int(v) => {
                    writeln!(script, r"\set {fixed} {v}")?;
                    format!(":{fixed}")
                }
                Param::TextArray(_) => bail!("no pgbench variable for an array parameter"),
            };
            names.push(name);
        }
        script.push_str(&substitute(&statement.text, &names)?);
        script.push_str(";\n");
    }
    Ok(script)
}

/// `text` with each placeholder `$n` replaced by `names[n - 1]`.
fn substitute(text: &str, names: &[String]) -> anyhow::Result<String> {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find('$') {
        out.push_str(&rest[..at]);
        let digits = rest[at + 1..]
            .bytes()
            .take_while(u8::is_ascii_digit)
            .count();
        let number: usize = rest[at + 1..at + 1 + digits]
            .parse()
            .with_context(|| format!("a `$` that is no placeholder in {text}"))?;
        let name = names
            .get(number.wrapping_sub(1))
            .with_context(|| format!("placeholder ${number} without a parameter"))?;
        out.push_str(name);
        rest = &rest[at + 1 + digits..];
    }
    out.push_str(rest);
    // pgbench reads one statement per line.
    Ok(out.replace('\n', " "))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_become_variables_and_random_samples_their_draws() {
        let statement = Statement {
            text: "SELECT $1::bigint, $2, $10, $1".into(),
            params: (1..=10)
                .map(|i| match i {
                    1 => Param::Text("4242".into()),
                    _ => Param::Int(i),
                })
                .collect(),
        };
        let script = pgbench_script(&[statement], &[PRODUCT_ID]).unwrap();
        assert!(script.starts_with("\\set id random(1, 1000000)\n\\set p0_2 2\n"));
        assert!(
            script.ends_with("SELECT :id::bigint, :p0_2, :p0_10, :id;\n"),
            "{script}"
        );
    }

    #[test]
    fn a_value_with_no_variable_is_refused() {
        let statement = Statement {
            text: "SELECT $1".into(),
            params: vec![Param::Text("cat8".into())],
        };
        assert!(pgbench_script(&[statement], &[CATEGORY]).is_err());
    }
}
