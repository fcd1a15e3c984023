//! Installed plugins: a workspace's own, or the platform's.

use uuid::Uuid;

use super::{ControlDb, ControlError};

/// The plugin that applies, without its bytes.
#[derive(Debug, Clone)]
pub struct PluginRow {
    /// Its id.
    pub id: Uuid,
    /// Its workspace; none for a platform plugin.
    pub workspace_id: Option<Uuid>,
    /// Its name.
    pub name: String,
    /// SHA-256 of its bytes.
    pub digest: Vec<u8>,
}

impl ControlDb {
    /// The workspace's plugin of `kind`, else the platform's.
    pub async fn effective_plugin(
        &self,
        kind: &str,
        workspace: Option<Uuid>,
    ) -> Result<Option<PluginRow>, ControlError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT id, workspace_id, name, digest FROM plugins
                 WHERE kind = $1 AND (workspace_id = $2 OR workspace_id IS NULL)
                 ORDER BY workspace_id NULLS LAST LIMIT 1",
            )
            .await?;
        Ok(client
            .query_opt(&statement, &[&kind, &workspace])
            .await?
            .map(|row| PluginRow {
                id: row.get(0),
                workspace_id: row.get(1),
                name: row.get(2),
                digest: row.get(3),
            }))
    }

    /// The bytes of a plugin.
    pub async fn plugin_wasm(&self, id: Uuid) -> Result<Vec<u8>, ControlError> {
        let client = self.client().await?;
        Ok(client
            .query_one("SELECT wasm FROM plugins WHERE id = $1", &[&id])
            .await?
            .get(0))
    }

    /// Installs or replaces the plugin of `kind` for `workspace` (none: platform);
    /// returns the digest of the one it replaced. One plugin per kind and owner is
    /// kept: a replacement deletes the old version.
    pub async fn store_plugin(
        &self,
        kind: &str,
        workspace: Option<Uuid>,
        name: &str,
        digest: &[u8],
        wasm: &[u8],
    ) -> Result<Option<Vec<u8>>, ControlError> {
        let mut client = self.client().await?;
        let tx = client.transaction().await?;
        let replaced = tx
            .query_opt(
                "DELETE FROM plugins WHERE kind = $1 AND workspace_id IS NOT DISTINCT FROM $2 RETURNING digest",
                &[&kind, &workspace],
            )
            .await?
            .map(|row| row.get(0));
        tx.execute(
            "INSERT INTO plugins (id, workspace_id, kind, name, digest, wasm)
             VALUES ($1, $2, $3, $4, $5, $6)",
            &[&Uuid::new_v4(), &workspace, &kind, &name, &digest, &wasm],
        )
        .await?;
        tx.commit().await?;
        Ok(replaced)
    }

    /// Removes the plugin of `kind` for `workspace` (none: platform); returns its
    /// digest, or `None` when there was none.
    pub async fn remove_plugin(
        &self,
        kind: &str,
        workspace: Option<Uuid>,
    ) -> Result<Option<Vec<u8>>, ControlError> {
        let client = self.client().await?;
        Ok(client
            .query_opt(
                "DELETE FROM plugins WHERE kind = $1 AND workspace_id IS NOT DISTINCT FROM $2 RETURNING digest",
                &[&kind, &workspace],
            )
            .await?
            .map(|row| row.get(0)))
    }

    /// Whether any installed plugin (of any workspace, or the platform) has this
    /// content.
    pub async fn plugin_digest_in_use(&self, digest: &[u8]) -> Result<bool, ControlError> {
        let client = self.client().await?;
        Ok(client
            .query_one(
                "SELECT EXISTS (SELECT 1 FROM plugins WHERE digest = $1)",
                &[&digest],
            )
            .await?
            .get(0))
    }
}
