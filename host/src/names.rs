//! How Plinth names the PostgreSQL objects of a workspace. Every name here is made of
//! `[a-z0-9_]` only, so it needs no quoting; quoting is applied anyway where SQL is built.

use uuid::Uuid;

use crate::control::roles::RoleKind;

/// Group role of the customers' read roles (seed 000).
pub const GROUP_READ: &str = "dl_tenant_read";
/// Group role of the customers' runtime roles (seed 000).
pub const GROUP_OVERRIDE: &str = "dl_tenant_override";
/// Group role for internal operations across the managed schemas (seed 000).
pub const GROUP_PLATFORM: &str = "dl_platform_runtime";
/// Schema of Workspace Tables, under platform-assigned physical names.
pub const TABLES_SCHEMA: &str = "workspace_tables";
/// Schema of `postgres` vault collections.
pub const VAULT_SCHEMA: &str = "vault";
/// The customer-owned schema (seed 000).
pub const CUSTOM_SCHEMA: &str = "tenant_custom";

/// The workspace's database: `ws_<32 hex>`.
pub fn database(workspace: Uuid) -> String {
    format!("ws_{}", workspace.simple())
}

/// A login role of the workspace: `ws_<32 hex>_<kind>`.
pub fn role(workspace: Uuid, kind: RoleKind) -> String {
    format!("ws_{}_{}", workspace.simple(), kind.as_str())
}

/// The workspace's NOLOGIN role that owns its Workspace Tables.
pub fn owner_role(workspace: Uuid) -> String {
    format!("ws_{}_owner", workspace.simple())
}
