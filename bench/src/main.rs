//! `plinth-bench`: builds Plinth in release mode, starts it on an embedded cluster,
//! loads the fixed data set, and runs every scenario through Plinth (wrk, a second
//! process) and through the raw ceiling (pgbench or COPY, straight to the same
//! PostgreSQL) at each concurrency, printing req/s, p50, p99 and the ratios.
//! See `bench/README.md`.

mod copy;
mod dataset;
mod floor;
mod measure;
mod pgbench;
mod plugin_call;
mod postgraphile;
mod server;
mod session;
mod statements;
mod tables;
mod vault;
mod wrk;

use std::time::Instant;

use clap::Parser;

use measure::{median, medians, Sample};

/// Command line.
#[derive(Parser, Debug)]
#[command(about = "Plinth against the raw PostgreSQL ceiling, in one run")]
struct Args {
    /// Seconds per run.
    #[arg(long, default_value_t = 10)]
    duration: u32,
    /// Runs per scenario and concurrency (medians are reported).
    #[arg(long, default_value_t = 3)]
    runs: u32,
    /// Seconds of unmeasured load before the runs of each scenario and concurrency,
    /// for Plinth, the ceiling and the peer alike (connections opened, caches and
    /// plans warm); 0 leaves it out.
    #[arg(long, default_value_t = 2)]
    warmup: u32,
    /// Concurrencies.
    #[arg(long, value_delimiter = ',', default_value = "1,32")]
    concurrency: Vec<u32>,
    /// Only these scenarios (R1,R1w,R1e,R2,R3,W1,W2,V1,V2,Q,F,L,P).
    #[arg(long, value_delimiter = ',')]
    only: Vec<String>,
    /// Leave out the PostGraphile peer (which needs npm to install it once).
    #[arg(long)]
    no_peer: bool,
    /// Records for the NDJSON ingestion scenario.
    #[arg(long, default_value_t = 1_000_000)]
    records: usize,
    /// Load the data set, print how to reach it, and keep the servers up until
    /// Ctrl-C instead of running scenarios (for profiling by hand).
    #[arg(long)]
    hold: bool,
    /// Plinth's log filter (`PLINTH_LOG`). `warn` leaves out the access-log line of
    /// every request, as the ceiling's PostgreSQL logs no statements; `info` measures
    /// with it (the lines go to the harness's stderr).
    #[arg(long, default_value = "warn")]
    plinth_log: String,
    /// Measure this `plinth` binary instead of building the workspace's (for A/B runs).
    #[arg(long)]
    plinth_binary: Option<std::path::PathBuf>,
}

/// One scenario: the Plinth request and the ceiling's SQL.
struct Scenario {
    name: &'static str,
    what: &'static str,
    method: &'static str,
    path: String,
    body: Option<String>,
    idempotent: bool,
    /// The `Prefer` header, if any.
    prefer: Option<&'static str>,
    /// Rows per request (batch writes report rows/s).
    rows_per_request: f64,
    ceiling: Ceiling,
    /// The same read as a GraphQL request to PostGraphile.
    peer: Option<&'static str>,
    /// Writes run beside every measurement of the scenario (Plinth, the ceiling and
    /// the peer alike): a pgbench script and its rate a second.
    beside: Option<(&'static str, u32)>,
}

enum Ceiling {
    /// The statements Plinth's planner and SQL builder make of the scenario's
    /// request (see `statements`), resolved into [`Ceiling::AsApi`] once the data
    /// set is loaded.
    Plinth,
    /// pgbench as a member of Plinth's API role.
    AsApi(String),
    /// pgbench as the workspace's runtime role.
    Pgbench(String),
    /// pgbench as the cluster's superuser (for the vault schema, which only the
    /// vault role and the superuser may read).
    Superuser(String),
    /// COPY batches.
    Copy,
}

const W1_SQL: &str = r#"WITH pgrst_rows AS (INSERT INTO "tenant_custom"."events" ("kind", "payload") VALUES ('click', '{"x": 1}') RETURNING *) SELECT coalesce((SELECT json_agg(pgrst_rows)::text FROM pgrst_rows), '[]'), (SELECT count(*) FROM pgrst_rows);
"#;

/// R1w's writes: an `UPDATE` of `products` that matches no row. Each one is a
/// committed write statement on the table, after which no remembered total of it
/// holds, yet no page of the table changes: a write of real rows would also clear
/// their pages' visibility bits, and every count (Plinth's and the ceiling's)
/// would slow down more and more until a vacuum, which measures PostgreSQL's
/// visibility map rather than Plinth.
const PRODUCT_UPDATES: &str = "UPDATE tenant_custom.products SET price = price WHERE id = 0;\n";

fn scenarios(ws: &str, vault_table: &str, sales_table: &str) -> Vec<Scenario> {
    let rows = format!("/v1/postgres/{ws}/rows");
    let vault = format!("/v1/workspaces/{ws}/vault/collections/items");
    let batch: Vec<String> = (0..1000)
        .map(|i| format!(r#"{{"kind":"batch","payload":{{"i":{i}}}}}"#))
        .collect();
    let r1_path = format!(
        "{rows}/products?select=id,name,price&category=eq.{{cat}}&price=gte.50&order=price.desc&limit=20"
    );
    let r1 = |name, what, beside| Scenario {
        name,
        what,
        method: "GET",
        path: r1_path.clone(),
        body: None,
        idempotent: false,
        prefer: None,
        rows_per_request: 1.0,
        ceiling: Ceiling::Plinth,
        peer: Some(postgraphile::R1),
        beside,
    };
    vec![
        r1("R1", "filtered, ordered list", None),
        r1(
            "R1w",
            "R1 while products is written every 5 ms",
            Some((PRODUCT_UPDATES, 200)),
        ),
        Scenario {
            name: "R1e",
            what: "R1 with `Prefer: count=estimated`",
            method: "GET",
            path: r1_path.clone(),
            body: None,
            idempotent: false,
            prefer: Some("count=estimated"),
            rows_per_request: 1.0,
            ceiling: Ceiling::Plinth,
            peer: Some(postgraphile::R1_PAGE),
            beside: None,
        },
        Scenario {
            name: "R2",
            what: "read by primary key",
            method: "GET",
            path: format!("{rows}/products/{{id}}"),
            body: None,
            idempotent: false,
            prefer: None,
            rows_per_request: 1.0,
            ceiling: Ceiling::Plinth,
            peer: Some(postgraphile::R2),
            beside: None,
        },
        Scenario {
            name: "R3",
            what: "list with a many-to-one embed",
            method: "GET",
            path: format!("{rows}/orders?select=id,quantity,customer:customers(name)&limit=20"),
            body: None,
            idempotent: false,
            prefer: None,
            rows_per_request: 1.0,
            ceiling: Ceiling::Plinth,
            peer: Some(postgraphile::R3),
            beside: None,
        },
        Scenario {
            name: "W1",
            what: "single insert with Idempotency-Key",
            method: "POST",
            path: format!("{rows}/events"),
            body: Some(r#"{"kind":"click","payload":{"x":1}}"#.into()),
            idempotent: true,
            prefer: None,
            rows_per_request: 1.0,
            ceiling: Ceiling::Pgbench(W1_SQL.into()),
            peer: None,
            beside: None,
        },
        Scenario {
            name: "W2",
            what: "batch insert, 1,000 rows per request (rows/s)",
            method: "POST",
            path: format!("{rows}/events"),
            body: Some(format!("[{}]", batch.join(","))),
            idempotent: true,
            // COPY answers no rows either.
            prefer: Some("return=minimal"),
            rows_per_request: 1000.0,
            ceiling: Ceiling::Copy,
            peer: None,
            beside: None,
        },
        Scenario {
            name: "V1",
            what: "vault query (postgres engine), filter + sort + page",
            method: "POST",
            path: format!("{vault}/query"),
            body: Some(r#"{"filter":{"category":"cat7"},"sort":["-price"],"limit":20}"#.into()),
            idempotent: false,
            prefer: None,
            rows_per_request: 1.0,
            ceiling: Ceiling::Superuser(vault::query_sql(vault_table)),
            peer: None,
            beside: None,
        },
        Scenario {
            name: "V2",
            what: "vault insert (postgres engine), schema-validated",
            method: "POST",
            path: vault.clone(),
            body: Some(r#"{"record":{"name":"new item","category":"cat3","price":12.5}}"#.into()),
            idempotent: false,
            prefer: None,
            rows_per_request: 1.0,
            ceiling: Ceiling::Superuser(vault::insert_sql(vault_table)),
            peer: None,
            beside: None,
        },
        Scenario {
            name: "Q",
            what: "scoped SQL query on a Workspace Table",
            method: "POST",
            path: format!("/v1/{ws}/query"),
            body: Some(serde_json::json!({ "sql": tables::QUERY }).to_string()),
            idempotent: false,
            prefer: None,
            rows_per_request: 1.0,
            ceiling: Ceiling::Superuser(tables::ceiling_sql(sales_table)),
            peer: None,
            beside: None,
        },
    ]
}

/// CPU time (user + system) of a process, in seconds.
pub(crate) fn cpu_seconds(pid: u32) -> f64 {
    let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) else {
        return 0.0;
    };
    let after_name = stat.rsplit(')').next().unwrap_or("");
    let fields: Vec<&str> = after_name.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    (ticks(11) + ticks(12)) / 100.0
}

struct Row {
    name: String,
    what: String,
    concurrency: u32,
    plinth: Sample,
    ceiling: Sample,
    peer: Option<Sample>,
    cpu_us_per_request: f64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args = Args::parse();
    let wanted =
        |name: &str| args.only.is_empty() || args.only.iter().any(|o| o.eq_ignore_ascii_case(name));
    wrk::ensure_installed()?;
    let binary = match &args.plinth_binary {
        Some(path) => path.clone(),
        None => server::build_plinth()?,
    };
    let dir = tempfile::tempdir()?;
    std::fs::set_permissions(
        dir.path(),
        std::os::unix::fs::PermissionsExt::from_mode(0o755),
    )?;
    let server = server::Server::start(&binary, &dir.path().join("data"), &args.plinth_log)?;
    println!("plinth {} (pid {})", server.base, server.pid());
    let ws = server.workspace().await?;
    let key = server
        .key(
            &ws,
            &[
                "postgres:read",
                "postgres:write",
                "ingestion:admin",
                "vault:read",
                "vault:write",
                "vault:ddl",
                "workspace:update",
            ],
        )
        .await?;
    let uri = server.runtime_uri(&ws).await?;
    let started = Instant::now();
    let (db, connection) = tokio_postgres::connect(&uri, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    db.batch_execute(dataset::LOAD).await.map_err(|e| {
        anyhow::anyhow!(
            "loading the data set: {}",
            e.as_db_error()
                .map(|d| d.message().to_owned())
                .unwrap_or_else(|| e.to_string())
        )
    })?;
    db.batch_execute(dataset::VACUUM).await?;
    println!(
        "data set loaded in {:.1}s ({} products)",
        started.elapsed().as_secs_f64(),
        dataset::PRODUCTS
    );

    let superuser_uri = vault::superuser_uri(&uri, &dir.path().join("data"))?;
    let vault_table = vault::load(&server.base, &key, &ws, &superuser_uri).await?;
    println!("vault collection loaded ({} documents)", vault::DOCUMENTS);
    let sales_table = tables::load(&server.base, &key, &ws, &superuser_uri).await?;
    println!("workspace table loaded ({} rows)", tables::SALES);
    // Write the loads' dirty pages out now, so that no checkpoint of them runs under
    // a measurement (it would land on whichever server is being measured).
    let (superuser, connection) =
        tokio_postgres::connect(&superuser_uri, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    superuser.batch_execute("CHECKPOINT").await?;
    let api_uri = statements::api_role_uri(&superuser, &superuser_uri, &ws).await?;
    let (api, connection) = tokio_postgres::connect(&api_uri, tokio_postgres::NoTls).await?;
    tokio::spawn(connection);
    let builder = statements::Builder::new(&api, &dir.path().join("plugin-cache")).await?;
    if args.hold {
        let r2 = builder
            .request(
                &format!("/v1/postgres/{ws}/rows/products/{{id}}"),
                None,
                statements::Counter::Moving,
            )
            .await?;
        let r2_script = dir.path().join("r2-ceiling.sql");
        std::fs::write(
            &r2_script,
            statements::pgbench_script(&r2, &[statements::PRODUCT_ID])?,
        )?;
        println!("holding: {} workspace {ws}", server.base);
        println!("  R2: wrk -c32 -d10s -H 'Authorization: Bearer {key}' {}/v1/postgres/{ws}/rows/products/4242", server.base);
        println!(
            "  ceiling: pgbench -M prepared -f {} {api_uri}",
            r2_script.display()
        );
        tokio::signal::ctrl_c().await?;
        return Ok(());
    }
    let peer = if args.no_peer {
        None
    } else {
        let peer = postgraphile::PostGraphile::start(&uri, server::free_port()?)?;
        println!("postgraphile {} (pid {})", peer.base, peer.pid());
        Some(peer)
    };

    let mut table = Vec::new();
    for mut scenario in scenarios(&ws, &vault_table, &sales_table) {
        if !wanted(scenario.name) {
            continue;
        }
        if let Ceiling::Plinth = scenario.ceiling {
            let counter = match scenario.beside {
                Some(_) => statements::Counter::Moving,
                None => statements::Counter::Unchanged(&api),
            };
            let sent = builder
                .request(&scenario.path, scenario.prefer, counter)
                .await?;
            let script =
                statements::pgbench_script(&sent, &[statements::PRODUCT_ID, statements::CATEGORY])?;
            scenario.ceiling = Ceiling::AsApi(script);
        }
        let peer = match (&peer, scenario.peer) {
            (Some(server), Some(body)) => {
                server.check(body).await?;
                Some((server, body))
            }
            _ => None,
        };
        for &c in &args.concurrency {
            let mut plinth = Vec::new();
            let mut ceiling = Vec::new();
            let mut cpu = Vec::new();
            let mut peers = Vec::new();
            let script = wrk::script(
                scenario.method,
                &scenario.path,
                &key,
                scenario.body.as_deref(),
                scenario.idempotent,
                scenario.prefer,
            );
            let peer = peer.map(|(server, body)| {
                (
                    server,
                    wrk::script("POST", "/graphql", "", Some(body), false, None),
                )
            });
            let ceiling_sql = &scenario.ceiling;
            let run_ceiling = |seconds: u32| {
                let (uri, api_uri, superuser_uri, dir) =
                    (&uri, &api_uri, &superuser_uri, dir.path());
                async move {
                    match ceiling_sql {
                        Ceiling::Pgbench(sql) => pgbench::run(uri, sql, c, seconds, dir),
                        Ceiling::AsApi(sql) => pgbench::run(api_uri, sql, c, seconds, dir),
                        Ceiling::Superuser(sql) => {
                            pgbench::run(superuser_uri, sql, c, seconds, dir)
                        }
                        Ceiling::Copy => copy::run(uri, c, seconds, 1000).await,
                        Ceiling::Plinth => anyhow::bail!("the ceiling was not built"),
                    }
                }
            };
            let _beside = match scenario.beside {
                Some((sql, rate)) => Some(pgbench::Beside::start(&uri, sql, rate, dir.path())?),
                None => None,
            };
            if args.warmup > 0 {
                wrk::run(&server.base, &script, c, args.warmup, dir.path())?;
                run_ceiling(args.warmup).await?;
                if let Some((server, peer_script)) = &peer {
                    wrk::run(&server.base, peer_script, c, args.warmup, dir.path())?;
                }
            }
            for _ in 0..args.runs {
                let before = cpu_seconds(server.pid());
                let mut sample = wrk::run(&server.base, &script, c, args.duration, dir.path())?;
                let used = cpu_seconds(server.pid()) - before;
                cpu.push(used * 1e6 / (sample.rate * args.duration as f64));
                sample.rate *= scenario.rows_per_request;
                plinth.push(sample);
                ceiling.push(run_ceiling(args.duration).await?);
                if let Some((server, peer_script)) = &peer {
                    peers.push(wrk::run(
                        &server.base,
                        peer_script,
                        c,
                        args.duration,
                        dir.path(),
                    )?);
                }
            }
            let row = Row {
                name: scenario.name.into(),
                what: scenario.what.into(),
                concurrency: c,
                plinth: medians(&plinth),
                ceiling: medians(&ceiling),
                peer: (!peers.is_empty()).then(|| medians(&peers)),
                cpu_us_per_request: median(cpu),
            };
            print_row(&row);
            table.push(row);
        }
    }
    let floor = if wanted("F") {
        let sent = builder
            .request(
                &format!("/v1/postgres/{ws}/rows/products/{{id}}"),
                None,
                statements::Counter::Moving,
            )
            .await?;
        Some(measure_floor(&api_uri, &sent[0], &args, dir.path()).await?)
    } else {
        None
    };
    if wanted("L") {
        let rate = copy::ingest(&server.base, &key, &ws, args.records).await?;
        println!(
            "L  NDJSON base-record load: {} records at {rate:.0} rows/s",
            args.records
        );
    }
    let plugin_call = if wanted("P") {
        let call = plugin_call::measure(args.duration, &dir.path().join("plugin-cache")).await?;
        println!(
            "P  filter-parser plugin call: {:.2} µs through Wasm, {:.2} µs native",
            micros(call.wasm),
            micros(call.native)
        );
        Some(call)
    } else {
        None
    };
    println!();
    print_table(&table, &args);
    if let Some(call) = plugin_call {
        print_plugin_call(call, &table);
    }
    if let Some(floor) = floor {
        print_floor(&floor, &table);
    }
    Ok(())
}

/// Scenario F at each concurrency: medians of the runs, and of the CPU per request.
async fn measure_floor(
    uri: &str,
    statement: &plinth::sql::statement::Statement,
    args: &Args,
    dir: &std::path::Path,
) -> anyhow::Result<Vec<(u32, Sample, f64)>> {
    let floor = floor::Floor::start(uri, statement).await?;
    let mut rows = Vec::new();
    for &c in &args.concurrency {
        if args.warmup > 0 {
            floor.run(c, args.warmup, dir)?;
        }
        let mut samples = Vec::new();
        let mut cpu = Vec::new();
        for _ in 0..args.runs {
            let run = floor.run(c, args.duration, dir)?;
            cpu.push(run.cpu_us_per_request);
            samples.push(run.sample);
        }
        let (sample, cpu) = (medians(&samples), median(cpu));
        println!(
            "F  R2's floor c={c}: {:.0} req/s, p99 {:.2} ms, {cpu:.0} µs CPU a request",
            sample.rate, sample.p99_ms
        );
        rows.push((c, sample, cpu));
    }
    Ok(rows)
}

/// Scenario F beside R2 through Plinth and its ceiling.
fn print_floor(floor: &[(u32, Sample, f64)], rows: &[Row]) {
    println!();
    println!("F: R2's floor, hyper and tokio-postgres (4 pipelining connections) with nothing of Plinth, in the harness's process:");
    println!();
    println!("| c | floor req/s | p50 ms | p99 ms | vs ceiling | CPU µs/req | Plinth R2 req/s | Plinth CPU µs/req |");
    println!("|---|---|---|---|---|---|---|---|");
    for (c, sample, cpu) in floor {
        let r2 = rows.iter().find(|r| r.name == "R2" && r.concurrency == *c);
        let ratio = r2
            .map(|r| format!("{:.2}x", sample.rate / r.ceiling.rate))
            .unwrap_or_else(|| "-".into());
        let (rate, plinth_cpu) = r2
            .map(|r| {
                (
                    format!("{:.0}", r.plinth.rate),
                    format!("{:.0}", r.cpu_us_per_request),
                )
            })
            .unwrap_or_else(|| ("-".into(), "-".into()));
        println!(
            "| {c} | {:.0} | {:.2} | {:.2} | {ratio} | {cpu:.0} | {rate} | {plinth_cpu} |",
            sample.rate, sample.p50_ms, sample.p99_ms
        );
    }
}

fn micros(d: std::time::Duration) -> f64 {
    d.as_secs_f64() * 1e6
}

/// Scenario P beside R1's (and R1e's) median latency through Plinth.
fn print_plugin_call(call: plugin_call::PluginCall, rows: &[Row]) {
    println!();
    println!(
        "P: one filter-parser call (`{}`), median of {}-call batches:",
        plugin_call::QUERY,
        plugin_call::BATCH
    );
    println!();
    println!("| | median µs | share of the request's median latency |");
    println!("|---|---|---|");
    let shares: Vec<String> = rows
        .iter()
        .filter(|r| r.name == "R1" || r.name == "R1e")
        .map(|r| {
            format!(
                "{} c={}: {:.2} %",
                r.name,
                r.concurrency,
                100.0 * micros(call.wasm) / (r.plinth.p50_ms * 1000.0).max(f64::MIN_POSITIVE)
            )
        })
        .collect();
    println!(
        "| Wasm component call | {:.2} | {} |",
        micros(call.wasm),
        if shares.is_empty() {
            "-".to_owned()
        } else {
            shares.join(", ")
        }
    );
    println!(
        "| native `filter_grammar::parse` | {:.2} | - |",
        micros(call.native)
    );
}

fn ratio(a: f64, b: f64) -> f64 {
    a / b.max(f64::MIN_POSITIVE)
}

/// `"1,234/s p99 5.00ms 3.1x"` for the peer, or `-`.
fn peer_text(row: &Row) -> String {
    match &row.peer {
        Some(peer) => format!(
            "{:.0}/s p99 {:.2}ms, Plinth {:.2}x",
            peer.rate,
            peer.p99_ms,
            ratio(row.plinth.rate, peer.rate)
        ),
        None => "-".into(),
    }
}

fn print_row(row: &Row) {
    println!(
        "{:<3} c={:<3} plinth {:>10.0}/s p50 {:>7.2}ms p99 {:>7.2}ms | ceiling {:>10.0}/s p50 {:>7.2}ms p99 {:>7.2}ms | {:.2}x | postgraphile {}",
        row.name,
        row.concurrency,
        row.plinth.rate,
        row.plinth.p50_ms,
        row.plinth.p99_ms,
        row.ceiling.rate,
        row.ceiling.p50_ms,
        row.ceiling.p99_ms,
        ratio(row.plinth.rate, row.ceiling.rate),
        peer_text(row),
    );
}

fn print_table(rows: &[Row], args: &Args) {
    println!(
        "Medians of {} runs of {}s each. Ratio = Plinth / ceiling throughput; p99 ratio = Plinth p99 / ceiling p99; PostGraphile: its req/s, p99, and Plinth's throughput over it.",
        args.runs, args.duration
    );
    println!();
    println!("| scenario | c | Plinth req/s | p50 ms | p99 ms | ceiling req/s | p50 ms | p99 ms | throughput ratio | p99 ratio | host CPU µs/req | PostGraphile 5 |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|");
    for row in rows {
        println!(
            "| {} {} | {} | {:.0} | {:.2} | {:.2} | {:.0} | {:.2} | {:.2} | {:.2}x | {:.2}x | {:.0} | {} |",
            row.name,
            row.what,
            row.concurrency,
            row.plinth.rate,
            row.plinth.p50_ms,
            row.plinth.p99_ms,
            row.ceiling.rate,
            row.ceiling.p50_ms,
            row.ceiling.p99_ms,
            ratio(row.plinth.rate, row.ceiling.rate),
            ratio(row.plinth.p99_ms, row.ceiling.p99_ms),
            row.cpu_us_per_request,
            peer_text(row),
        );
    }
}
