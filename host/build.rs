//! Builds the plugin components in `../plugins` for wasm32-wasip2 (installing the
//! target when it is missing) and tells the host where each one is, so that
//! `include_bytes!` embeds them and `cargo build` needs no manual step.

use std::path::{Path, PathBuf};
use std::process::Command;

/// (crate artifact name, environment variable naming its path).
const PLUGINS: &[(&str, &str)] = &[
    ("filter_parser", "PLINTH_PLUGIN_FILTER_PARSER"),
    ("jsonschema_policy", "PLINTH_PLUGIN_JSONSCHEMA_POLICY"),
    ("allow_all_authorizer", "PLINTH_PLUGIN_ALLOW_ALL_AUTHORIZER"),
    ("owner_authorizer", "PLINTH_PLUGIN_OWNER_AUTHORIZER"),
    ("hostile", "PLINTH_PLUGIN_HOSTILE"),
    ("napper", "PLINTH_PLUGIN_NAPPER"),
    ("postgres_adapter", "PLINTH_PLUGIN_POSTGRES_ADAPTER"),
    ("clickhouse_adapter", "PLINTH_PLUGIN_CLICKHOUSE_ADAPTER"),
];

const TARGET: &str = "wasm32-wasip2";

fn main() {
    let manifest_dir = PathBuf::from(std::env::var("CARGO_MANIFEST_DIR").expect("cargo sets it"));
    let plugins = manifest_dir.join("../plugins");
    println!("cargo:rerun-if-changed={}", plugins.display());
    println!(
        "cargo:rerun-if-changed={}",
        manifest_dir.join("../wit").display()
    );
    let out_dir = PathBuf::from(std::env::var("OUT_DIR").expect("cargo sets it"));
    // <target>/<profile>/build/<pkg>/out -> <target>/wasm-plugins, shared by all profiles.
    let target_root = out_dir
        .ancestors()
        .nth(4)
        .map(Path::to_path_buf)
        .unwrap_or_else(|| out_dir.clone());
    let wasm_target_dir = target_root.join("wasm-plugins");
    ensure_target();
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .args(["build", "--release", "--target", TARGET, "--manifest-path"])
        .arg(plugins.join("Cargo.toml"))
        .arg("--target-dir")
        .arg(&wasm_target_dir);
    // The outer build's flags and wrappers are for the host, not for wasm.
    for var in [
        "RUSTFLAGS",
        "CARGO_ENCODED_RUSTFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "CARGO_TARGET_DIR",
        "CARGO_BUILD_TARGET",
        "CARGO_MAKEFLAGS",
        "CARGO_PROFILE_DEV_OPT_LEVEL",
    ] {
        command.env_remove(var);
    }
    let status = command
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo to build the plugins: {e}"));
    if !status.success() {
        panic!("building the plugins for {TARGET} failed ({status}); see the errors above");
    }
    for (artifact, var) in PLUGINS {
        let path = wasm_target_dir
            .join(TARGET)
            .join("release")
            .join(format!("{artifact}.wasm"));
        assert!(
            path.exists(),
            "the plugin build did not produce {}",
            path.display()
        );
        println!("cargo:rustc-env={var}={}", path.display());
    }
}

/// Installs the wasm32-wasip2 target with rustup when it is missing.
fn ensure_target() {
    let installed = Command::new("rustup")
        .args(["target", "list", "--installed"])
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).contains(TARGET))
        .unwrap_or(false);
    if installed {
        return;
    }
    let status = Command::new("rustup")
        .args(["target", "add", TARGET])
        .status();
    match status {
        Ok(s) if s.success() => {}
        _ => println!(
            "cargo:warning=could not install the {TARGET} target with rustup; the plugin build may fail"
        ),
    }
}
