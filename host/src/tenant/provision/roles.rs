//! Roles: the three cluster-wide group roles of seed 000 and each workspace's own
//! login roles, with the grants that confine them to their workspace database.

use rand::distr::{Alphanumeric, SampleString};
use tokio_postgres::Client;
use uuid::Uuid;

use crate::config::TenantLimits;
use crate::control::roles::RoleKind;
use crate::names::{self, GROUP_OVERRIDE, GROUP_PLATFORM, GROUP_READ};
use crate::sql::{quote_ident, quote_literal};
use crate::tenant::Tenancy;

use super::ProvisionError;

/// Length of generated passwords (alphanumeric: about 238 bits).
const PASSWORD_LEN: usize = 40;

/// Creates the group roles once per cluster.
pub async fn ensure_group_roles(client: &Client) -> Result<(), tokio_postgres::Error> {
    for group in [GROUP_READ, GROUP_OVERRIDE, GROUP_PLATFORM] {
        if !role_exists(client, group).await? {
            client
                .batch_execute(&format!("CREATE ROLE {} NOLOGIN", quote_ident(group)))
                .await?;
        }
    }
    Ok(())
}

async fn role_exists(client: &Client, name: &str) -> Result<bool, tokio_postgres::Error> {
    Ok(client
        .query_opt("SELECT 1 FROM pg_roles WHERE rolname = $1", &[&name])
        .await?
        .is_some())
}

/// A new random password.
pub fn new_password() -> String {
    Alphanumeric.sample_string(&mut rand::rng(), PASSWORD_LEN)
}

/// The SCRAM verifier of a password, so the clear text never reaches the server's
/// statement log.
fn verifier(password: &str) -> String {
    postgres_protocol::password::scram_sha_256(password.as_bytes())
}

/// Makes sure the workspace's owner role and login roles exist with the passwords
/// the control database holds (creating or re-keying them as needed).
pub async fn ensure_login_roles(
    tenancy: &Tenancy,
    client: &Client,
    workspace: Uuid,
) -> Result<(), ProvisionError> {
    let powers = AdminPowers::of(client).await?;
    let owner = names::owner_role(workspace);
    if !role_exists(client, &owner).await? {
        client
            .batch_execute(&format!("CREATE ROLE {} NOLOGIN", quote_ident(&owner)))
            .await?;
    }
    let mut managed = vec![owner];
    for kind in RoleKind::ALL {
        let name = names::role(workspace, kind);
        let stored = tenancy.control.role(workspace, kind).await?;
        let password = match &stored {
            Some(stored) => Some(tenancy.secrets.open(&stored.password_sealed)?),
            None => None,
        };
        let exists = role_exists(client, &name).await?;
        match (exists, password) {
            (true, Some(_)) => {}
            (exists, known) => {
                let password = known.unwrap_or_else(new_password);
                let verb = if exists { "ALTER" } else { "CREATE" };
                client
                    .batch_execute(&format!(
                        "{verb} ROLE {} LOGIN PASSWORD {}",
                        quote_ident(&name),
                        quote_literal(&verifier(&password))
                    ))
                    .await?;
                tenancy
                    .control
                    .store_role(workspace, kind, &name, &tenancy.secrets.seal(&password))
                    .await?;
            }
        }
        let group = match kind {
            RoleKind::Read => Some(GROUP_READ),
            RoleKind::Runtime => Some(GROUP_OVERRIDE),
            RoleKind::Api | RoleKind::Vault => None,
        };
        if let Some(group) = group {
            client
                .batch_execute(&format!(
                    "GRANT {} TO {}",
                    quote_ident(group),
                    quote_ident(&name)
                ))
                .await?;
        }
        managed.push(name);
    }
    apply_limits(client, workspace, tenancy.limits, powers).await?;
    if !powers.superuser {
        // A CREATEROLE administrator needs membership to set default privileges
        // and ownership on behalf of these roles.
        for name in managed {
            client
                .batch_execute(&format!("GRANT {} TO CURRENT_USER", quote_ident(&name)))
                .await?;
        }
    }
    Ok(())
}

/// What the administrator connection may do beyond `CREATEROLE`.
#[derive(Debug, Clone, Copy)]
pub struct AdminPowers {
    /// A superuser: may set `temp_file_limit` on roles.
    pub superuser: bool,
    /// The server has `pg_use_reserved_connections` (PostgreSQL 16+) and the
    /// administrator may grant it.
    pub reserve_connections: bool,
}

impl AdminPowers {
    /// Asks the server.
    pub async fn of(client: &Client) -> Result<Self, tokio_postgres::Error> {
        let row = client
            .query_one(
                "SELECT r.rolsuper,
                        r.rolsuper AND EXISTS (
                            SELECT 1 FROM pg_roles WHERE rolname = 'pg_use_reserved_connections')
                   FROM pg_roles r WHERE r.rolname = current_user",
                &[],
            )
            .await?;
        Ok(Self {
            superuser: row.get(0),
            reserve_connections: row.get(1),
        })
    }
}

/// Bounds the workspace's login roles in PostgreSQL itself, so that they hold for
/// connections Plinth never sees (revealed URIs): a `CONNECTION LIMIT` on each
/// customer role, statement and idle-in-transaction timeouts on every role, and when
/// the administrator is a superuser (the setting is superuser-only), the temp-file
/// limit. Plinth's own pools' roles (`api`, `vault`) may use the connection slots
/// the server reserves (`pg_use_reserved_connections`, PostgreSQL 16+), which the
/// customer roles never get. Idempotent; also run for every workspace at start-up,
/// so that existing workspaces follow the configured limits.
pub async fn apply_limits(
    client: &Client,
    workspace: Uuid,
    limits: TenantLimits,
    powers: AdminPowers,
) -> Result<(), tokio_postgres::Error> {
    let mut sql = String::new();
    for kind in RoleKind::ALL {
        let name = quote_ident(&names::role(workspace, kind));
        match kind {
            RoleKind::Read | RoleKind::Runtime => sql.push_str(&format!(
                "ALTER ROLE {name} CONNECTION LIMIT {};",
                limits.connection_limit
            )),
            RoleKind::Api | RoleKind::Vault if powers.reserve_connections => {
                sql.push_str(&format!("GRANT pg_use_reserved_connections TO {name};"))
            }
            RoleKind::Api | RoleKind::Vault => {}
        }
        sql.push_str(&format!(
            "ALTER ROLE {name} SET statement_timeout = {};
             ALTER ROLE {name} SET idle_in_transaction_session_timeout = {};",
            limits.statement_timeout_ms, limits.idle_in_transaction_ms
        ));
        if powers.superuser {
            sql.push_str(&format!(
                "ALTER ROLE {name} SET temp_file_limit = {};",
                limits.temp_file_limit_kb
            ));
        }
    }
    client.batch_execute(&sql).await
}

/// Sets a new password on a login role and records it; the old one stops working
/// for every new login at once.
pub async fn rotate(
    tenancy: &Tenancy,
    client: &Client,
    workspace: Uuid,
    kind: RoleKind,
) -> Result<(), ProvisionError> {
    let name = names::role(workspace, kind);
    let password = new_password();
    client
        .batch_execute(&format!(
            "ALTER ROLE {} PASSWORD {}",
            quote_ident(&name),
            quote_literal(&verifier(&password))
        ))
        .await?;
    tenancy
        .control
        .store_role(workspace, kind, &name, &tenancy.secrets.seal(&password))
        .await?;
    Ok(())
}

/// The grants inside the workspace database that confine each role (idempotent).
pub async fn grant_workspace(
    client: &Client,
    workspace: Uuid,
) -> Result<(), tokio_postgres::Error> {
    let db = quote_ident(&names::database(workspace));
    let role = |kind| quote_ident(&names::role(workspace, kind));
    let (read, runtime, api, vault) = (
        role(RoleKind::Read),
        role(RoleKind::Runtime),
        role(RoleKind::Api),
        role(RoleKind::Vault),
    );
    let owner = quote_ident(&names::owner_role(workspace));
    client
        .batch_execute(&format!(
            "REVOKE ALL ON DATABASE {db} FROM PUBLIC;
             GRANT CONNECT ON DATABASE {db} TO {read}, {runtime}, {api}, {vault};
             GRANT TEMPORARY ON DATABASE {db} TO {runtime};
             ALTER SCHEMA workspace_tables OWNER TO {owner};
             ALTER SCHEMA vault OWNER TO {vault};
             GRANT USAGE ON SCHEMA dl_resolved, dl_override, tenant_custom, workspace_tables, dl_meta TO {api};
             GRANT SELECT ON dl_meta.schema_state TO {api};
             GRANT SELECT ON ALL TABLES IN SCHEMA dl_resolved TO {api};
             GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA dl_override, tenant_custom, workspace_tables TO {api};
             GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA tenant_custom, workspace_tables TO {api};
             ALTER DEFAULT PRIVILEGES FOR ROLE {runtime} IN SCHEMA tenant_custom
                 GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {api};
             ALTER DEFAULT PRIVILEGES FOR ROLE {runtime} IN SCHEMA tenant_custom
                 GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {api};
             ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA workspace_tables
                 GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO {api};
             ALTER DEFAULT PRIVILEGES FOR ROLE {owner} IN SCHEMA workspace_tables
                 GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO {api};"
        ))
        .await
}
