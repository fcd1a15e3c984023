//! Start-up and shutdown of `plinth serve`: the database (embedded or external), the
//! control database, credentials, pools, the pooler, then the listener; on a signal,
//! the reverse.

use std::net::SocketAddr;
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::sync::Arc;

use anyhow::Context;
use rand::distr::{Alphanumeric, SampleString};

use crate::api::{self, AppState, Endpoints};
use crate::auth::{Authenticator, JwtVerifier};
use crate::cluster::Cluster;
use crate::config::Settings;
use crate::control::notify::Invalidations;
use crate::control::{self, ControlDb};
use crate::embedded::{self, EmbeddedPgBouncer, EmbeddedPostgres, PgBouncerSpec};
use crate::plugins::PluginRuntime;
use crate::secrets::SecretBox;
use crate::server::{self, metrics::Metrics};
use crate::tenant::{Tenancy, TenantPools};

/// How often expired idempotency records are deleted.
const IDEMPOTENCY_SWEEP_PERIOD: std::time::Duration = std::time::Duration::from_secs(60);

/// Runs the server until SIGINT or SIGTERM.
pub async fn serve(settings: Settings) -> anyhow::Result<()> {
    let settings = Arc::new(settings);
    prepare_data_dir(&settings.data_dir)?;

    let (cluster, embedded_pg) = match &settings.database_url {
        Some(url) => (Cluster::from_url(url)?, None),
        None => {
            let reserved = u32::try_from(settings.pools.max_server_connections).unwrap_or(u32::MAX);
            let pg = EmbeddedPostgres::start(&settings.data_dir, reserved).await?;
            (Cluster::embedded(pg.port(), pg.password()), Some(pg))
        }
    };
    let started = start_services(&settings, &cluster, embedded_pg.as_ref()).await;
    let (state, bouncer) = match started {
        Ok(pair) => pair,
        Err(error) => {
            if let Some(pg) = embedded_pg {
                pg.stop().await;
            }
            return Err(error);
        }
    };

    let listener = tokio::net::TcpListener::bind(settings.listen)
        .await
        .with_context(|| format!("cannot listen on {}", settings.listen))?;
    let address: SocketAddr = listener.local_addr()?;
    let tls = match &settings.tls {
        Some(tls) => Some(server::tls::acceptor(tls)?),
        None => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    println!("plinth listening on {scheme}://{address}");
    tracing::info!("listening on {scheme}://{address}");

    let upgrading = state.tenancy.clone();
    tokio::spawn(async move { upgrading.upgrade_all_managed_schemas().await });
    let sweeping = state.tenancy.control.clone();
    tokio::spawn(async move {
        loop {
            tokio::time::sleep(IDEMPOTENCY_SWEEP_PERIOD).await;
            if let Err(error) = sweeping.sweep_idempotency_keys().await {
                tracing::debug!(%error, "idempotency sweep failed");
            }
        }
    });

    let router = api::router(state.clone());
    server::serve(listener, tls, router, &settings.http, shutdown_signal()).await;

    tracing::info!("shutting down");
    state.auth.invalidations().stop();
    if let Err(error) = state
        .tenancy
        .control
        .deregister_replica(state.auth.replica())
        .await
    {
        tracing::warn!(%error, "could not deregister this replica");
    }
    state.tenancy.pools.close_all();
    state.tenancy.control.close();
    if let Some(bouncer) = bouncer {
        bouncer.stop().await;
    }
    if let Some(pg) = embedded_pg {
        pg.stop().await;
    }
    Ok(())
}

async fn start_services(
    settings: &Arc<Settings>,
    cluster: &Cluster,
    embedded_pg: Option<&EmbeddedPostgres>,
) -> anyhow::Result<(AppState, Option<EmbeddedPgBouncer>)> {
    control::prepare(cluster).await?;
    if embedded_pg.is_some() {
        control::harden_embedded(cluster).await?;
    }
    let control = ControlDb::connect(cluster)?;
    let admin_token = admin_token(settings)?;
    let secret_path = settings
        .secret_key_file
        .clone()
        .unwrap_or_else(|| settings.data_dir.join("secret-key"));
    let secrets = Arc::new(SecretBox::load(
        &secret_path,
        settings.secret_key_file.is_none(),
    )?);
    let invalidations = Invalidations::start(cluster.clone(), control.clone());
    control.register_replica(invalidations.replica()).await?;
    let jwt = JwtVerifier::new(&settings.jwt)?;
    let auth = Authenticator::new(
        admin_token,
        jwt,
        settings.jwt.workspace_claim.clone(),
        control.clone(),
        invalidations.clone(),
    );
    let pools = TenantPools::new(cluster.clone(), settings.pools.clone());
    let plugins = PluginRuntime::new(
        &settings.plugins,
        Some(settings.plugin_cache_dir.clone()),
        Some(control.clone()),
        Some(&invalidations),
    )
    .await?;
    let tenancy = Tenancy::new(
        control,
        cluster.clone(),
        pools,
        secrets,
        settings.tenants,
        &invalidations,
    );

    let mut bouncer = None;
    let pooled = match (&settings.pooler_addr, embedded_pg) {
        (Some(addr), _) => Some(parse_host_port(addr)?),
        (None, Some(pg)) => {
            bouncer = EmbeddedPgBouncer::start(&PgBouncerSpec {
                data_dir: settings.data_dir.clone(),
                server_port: pg.port(),
                superuser_password: pg.password().to_owned(),
            })
            .await?;
            bouncer.as_ref().map(|b| ("127.0.0.1".to_owned(), b.port()))
        }
        (None, None) => None,
    };
    let endpoints = Endpoints {
        direct_host: settings
            .public_host
            .clone()
            .unwrap_or_else(|| cluster.host().to_owned()),
        direct_port: cluster.port(),
        pooled,
    };
    let metrics = Arc::new(Metrics::new());
    let (reused, counted) = metrics.exact_count_counters();
    let state = AppState::new(crate::api::Services {
        settings: settings.clone(),
        auth,
        tenancy,
        metrics,
        endpoints: Arc::new(endpoints),
        plugins,
        schema_caches: crate::schema_cache::SchemaCaches::new(),
        approved_queries: crate::query::Approvals::new(),
        exact_counts: crate::api::rows::ExactCounts::new(reused, counted),
    });
    Ok((state, bouncer))
}

fn parse_host_port(addr: &str) -> anyhow::Result<(String, u16)> {
    let (host, port) = addr
        .rsplit_once(':')
        .with_context(|| format!("PLINTH_POOLER_ADDR `{addr}` is not host:port"))?;
    let port = port
        .parse()
        .with_context(|| format!("PLINTH_POOLER_ADDR `{addr}` has no valid port"))?;
    Ok((host.to_owned(), port))
}

/// Creates the data directory. When root, it stays traversable (0711) so the
/// unprivileged database user can reach its own subdirectories.
fn prepare_data_dir(dir: &Path) -> anyhow::Result<()> {
    std::fs::create_dir_all(dir)
        .with_context(|| format!("cannot create the data directory {}", dir.display()))?;
    std::fs::set_permissions(dir, std::fs::Permissions::from_mode(0o711))
        .with_context(|| format!("cannot set permissions on {}", dir.display()))?;
    Ok(())
}

/// The admin token: configured, or read from (or first written to) `<data-dir>/admin-token`.
fn admin_token(settings: &Settings) -> anyhow::Result<String> {
    if let Some(token) = &settings.admin_token {
        return Ok(token.clone());
    }
    let path = settings.data_dir.join("admin-token");
    if let Ok(existing) = std::fs::read_to_string(&path) {
        let existing = existing.trim().to_owned();
        if !existing.is_empty() {
            tracing::info!(path = %path.display(), "admin token read from file");
            return Ok(existing);
        }
    }
    let token = format!(
        "plinth_admin_{}",
        Alphanumeric.sample_string(&mut rand::rng(), 40)
    );
    embedded::write_private(&path, &token)?;
    println!(
        "plinth admin token written to {} (mode 0600)",
        path.display()
    );
    tracing::info!(path = %path.display(), "admin token created");
    Ok(token)
}

async fn shutdown_signal() {
    use tokio::signal::unix::{signal, SignalKind};
    let mut terminate = match signal(SignalKind::terminate()) {
        Ok(s) => s,
        Err(error) => {
            tracing::error!(%error, "cannot listen for SIGTERM");
            return std::future::pending().await;
        }
    };
    tokio::select! {
        _ = tokio::signal::ctrl_c() => tracing::info!("SIGINT received"),
        _ = terminate.recv() => tracing::info!("SIGTERM received"),
    }
}
