//! The `plinth` binary: parse the command line, set up logging, dispatch.

use anyhow::Context;
use clap::Parser;
use plinth::cli::{Cli, Command};
use plinth::config::{LogFormat, Settings};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's allocator: the request path allocates many small,
/// short-lived buffers, and glibc's malloc/free showed up as ~12% of the host's CPU
/// in a profile of primary-key reads (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let outcome = match cli
        .command
        .unwrap_or_else(|| Command::Serve(Box::default()))
    {
        // The server's settings come first: they say how many worker threads to start.
        Command::Serve(args) => Settings::resolve(&args)
            .map_err(anyhow::Error::from)
            .and_then(|settings| runtime(Some(settings.workers))?.block_on(serve(settings))),
        Command::Workspace(command) => {
            runtime(None).and_then(|rt| rt.block_on(plinth::client::workspace(command)))
        }
        Command::Key(command) => {
            runtime(None).and_then(|rt| rt.block_on(plinth::client::key(command)))
        }
    };
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("plinth: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

/// The async runtime, with `workers` threads (else one per core).
fn runtime(workers: Option<usize>) -> anyhow::Result<tokio::runtime::Runtime> {
    let mut builder = tokio::runtime::Builder::new_multi_thread();
    if let Some(workers) = workers {
        builder.worker_threads(workers);
    }
    builder
        .enable_all()
        .build()
        .context("cannot start the async runtime")
}

async fn serve(settings: Settings) -> anyhow::Result<()> {
    let filter = EnvFilter::try_from_env("PLINTH_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,tokio_postgres=warn"));
    let subscriber = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
        .with_writer(std::io::stderr);
    match settings.log_format {
        LogFormat::Json => subscriber.json().init(),
        LogFormat::Human => subscriber.init(),
    }
    tracing::info!(workers = settings.workers, "starting");
    plinth::app::serve(settings).await
}
