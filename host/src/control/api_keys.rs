//! API-key records: only a hash of each key's secret is stored.

use chrono::{DateTime, Utc};
use serde::Serialize;
use uuid::Uuid;

use super::{ControlDb, ControlError};

/// What the control database knows of a key; enough to verify one presented.
#[derive(Debug, Clone)]
pub struct StoredKey {
    /// The key's id.
    pub id: Uuid,
    /// The workspace it belongs to.
    pub workspace_id: Uuid,
    /// SHA-256 of the secret part.
    pub secret_hash: Vec<u8>,
    /// Granted scopes.
    pub scopes: Vec<String>,
}

/// A key as listed to an administrator (never the secret).
#[derive(Debug, Clone, Serialize)]
pub struct KeySummary {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: String,
    /// Granted scopes.
    pub scopes: Vec<String>,
    /// Creation time.
    pub created_at: DateTime<Utc>,
}

impl ControlDb {
    /// Stores a new key.
    pub async fn insert_api_key(
        &self,
        workspace_id: Uuid,
        name: &str,
        lookup_id: &str,
        secret_hash: &[u8],
        scopes: &[String],
    ) -> Result<KeySummary, ControlError> {
        let client = self.client().await?;
        let row = client
            .query_one(
                "INSERT INTO api_keys (id, workspace_id, name, lookup_id, secret_hash, scopes)
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id, name, scopes, created_at",
                &[
                    &Uuid::new_v4(),
                    &workspace_id,
                    &name,
                    &lookup_id,
                    &secret_hash,
                    &scopes,
                ],
            )
            .await?;
        Ok(KeySummary {
            id: row.get(0),
            name: row.get(1),
            scopes: row.get(2),
            created_at: row.get(3),
        })
    }

    /// The live (unrevoked) key with this public lookup id.
    pub async fn find_api_key(&self, lookup_id: &str) -> Result<Option<StoredKey>, ControlError> {
        let client = self.client().await?;
        let statement = client
            .prepare_cached(
                "SELECT id, workspace_id, secret_hash, scopes FROM api_keys
                 WHERE lookup_id = $1 AND revoked_at IS NULL",
            )
            .await?;
        Ok(client
            .query_opt(&statement, &[&lookup_id])
            .await?
            .map(|row| StoredKey {
                id: row.get(0),
                workspace_id: row.get(1),
                secret_hash: row.get(2),
                scopes: row.get(3),
            }))
    }

    /// Revokes a key and returns its lookup id and the revocation time, or `None`
    /// when no live key of that workspace has this id. The table's trigger announces
    /// the change to every replica.
    pub async fn revoke_api_key(
        &self,
        workspace_id: Uuid,
        key_id: Uuid,
    ) -> Result<Option<(String, DateTime<Utc>)>, ControlError> {
        let client = self.client().await?;
        let row = client
            .query_opt(
                "UPDATE api_keys SET revoked_at = now()
                 WHERE id = $1 AND workspace_id = $2 AND revoked_at IS NULL
                 RETURNING lookup_id, now()",
                &[&key_id, &workspace_id],
            )
            .await?;
        Ok(row.map(|r| (r.get(0), r.get(1))))
    }

    /// The live keys of a workspace.
    pub async fn list_api_keys(&self, workspace_id: Uuid) -> Result<Vec<KeySummary>, ControlError> {
        let client = self.client().await?;
        let rows = client
            .query(
                "SELECT id, name, scopes, created_at FROM api_keys
                 WHERE workspace_id = $1 AND revoked_at IS NULL ORDER BY created_at DESC",
                &[&workspace_id],
            )
            .await?;
        Ok(rows
            .iter()
            .map(|row| KeySummary {
                id: row.get(0),
                name: row.get(1),
                scopes: row.get(2),
                created_at: row.get(3),
            })
            .collect())
    }
}
