//! What each world is linked with. The worlds of filter parsers and row authorizers
//! import nothing, so their components get no clocks, timers, randomness, files or
//! sockets: only what Rust's standard library needs to start and to report a panic
//! (`wasi:cli` with no arguments, an empty environment, stdin closed, stdout
//! discarded and stderr captured, and the `wasi:io` streams behind them). A guest
//! there cannot wait on anything. Validation policies, whose built-in JSON Schema
//! validator seeds hash maps and reads the clock, and vault adapters, which wait on
//! their engine, get WASI as a whole; their calls are bounded by the wall clock.

use wasmtime::component::{Component, HasData, Linker, ResourceTable};
use wasmtime::Engine;
use wasmtime_wasi::cli::{WasiCli, WasiCliView};
use wasmtime_wasi::p2::bindings::cli;
use wasmtime_wasi::WasiView;

use super::state::HostState;
use super::PluginKind;

/// The interfaces an import-free world's component may import (by package and
/// interface, any version): what the standard library's start-up and panic
/// reporting use.
const STDIO_INTERFACES: &[&str] = &[
    "wasi:cli/environment",
    "wasi:cli/exit",
    "wasi:cli/stdin",
    "wasi:cli/stdout",
    "wasi:cli/stderr",
    "wasi:cli/terminal-input",
    "wasi:cli/terminal-output",
    "wasi:cli/terminal-stdin",
    "wasi:cli/terminal-stdout",
    "wasi:cli/terminal-stderr",
    "wasi:io/error",
    "wasi:io/poll",
    "wasi:io/streams",
];

/// Whether `kind`'s world imports nothing (and so is linked with stdio only).
pub fn imports_nothing(kind: PluginKind) -> bool {
    matches!(kind, PluginKind::FilterParser | PluginKind::RowAuthorizer)
}

/// The WIT package of a world's own types, which its components import (types
/// only, nothing to call).
fn own_package(kind: PluginKind) -> &'static str {
    match kind {
        PluginKind::FilterParser => "plinth:filter/",
        PluginKind::RowAuthorizer => "plinth:authorizer/",
        PluginKind::ValidationPolicy => "plinth:validation/",
        PluginKind::VaultAdapter => "plinth:vault/",
    }
}

/// The imports of `component`, a `kind` plugin, that an import-free world does not
/// grant, by name.
pub fn ungranted_imports(engine: &Engine, component: &Component, kind: PluginKind) -> Vec<String> {
    component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .filter(|name| {
            let interface = name.split('@').next().unwrap_or(name);
            !STDIO_INTERFACES.contains(&interface) && !name.starts_with(own_package(kind))
        })
        .collect()
}

struct Io;

impl HasData for Io {
    type Data<'a> = &'a mut ResourceTable;
}

/// Links the standard library's stdio, exit and environment, and nothing else.
pub fn add_stdio_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    use wasmtime_wasi_io::bindings::wasi::io;
    let l = linker;
    io::error::add_to_linker::<HostState, Io>(l, |t| t.ctx().table)?;
    io::poll::add_to_linker::<HostState, Io>(l, |t| t.ctx().table)?;
    io::streams::add_to_linker::<HostState, Io>(l, |t| t.ctx().table)?;
    cli::exit::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::environment::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stdin::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stdout::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::stderr::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_input::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_output::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stdin::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stdout::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    cli::terminal_stderr::add_to_linker::<HostState, WasiCli>(l, HostState::cli)?;
    Ok(())
}
