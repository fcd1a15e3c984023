//! The `plinth` binary: parse the command line, set up logging, dispatch.

use clap::Parser;
use plinth::cli::{Cli, Command, ServeArgs};
use plinth::config::{LogFormat, Settings};
use tracing_subscriber::EnvFilter;

/// mimalloc instead of glibc's allocator: the request path allocates many small,
/// short-lived buffers, and glibc's malloc/free showed up as ~12% of the host's CPU
/// in a profile of primary-key reads (bench/RESULTS.md).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(runtime) => runtime,
        Err(error) => {
            eprintln!("plinth: cannot start the async runtime: {error}");
            return std::process::ExitCode::FAILURE;
        }
    };
    let outcome = runtime.block_on(async {
        match cli
            .command
            .unwrap_or_else(|| Command::Serve(Box::default()))
        {
            Command::Serve(args) => serve(*args).await,
            Command::Workspace(command) => plinth::client::workspace(command).await,
            Command::Key(command) => plinth::client::key(command).await,
        }
    });
    match outcome {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("plinth: {error:#}");
            std::process::ExitCode::FAILURE
        }
    }
}

async fn serve(args: ServeArgs) -> anyhow::Result<()> {
    let settings = Settings::resolve(&args)?;
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
    plinth::app::serve(settings).await
}
