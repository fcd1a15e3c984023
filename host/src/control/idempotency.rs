//! Idempotency records of the Data API's writes, per workspace and key.

use std::time::Duration;

use uuid::Uuid;

use super::{ControlDb, ControlError};

/// What the control database knows of a key.
#[derive(Debug, Clone)]
pub enum KeyState {
    /// This request claimed the key and must finish it.
    Claimed,
    /// Another request with the same key and request is still running.
    Pending,
    /// The first request finished: replay its response.
    Done {
        /// Its status.
        status: u16,
        /// Its body.
        body: Vec<u8>,
    },
    /// The key was used for a different request.
    Mismatch,
}

impl ControlDb {
    /// Claims `key` for a request with `hash`, or reports what holds it.
    pub async fn claim_idempotency_key(
        &self,
        workspace: Uuid,
        key: &str,
        hash: &[u8],
        ttl: Duration,
    ) -> Result<KeyState, ControlError> {
        let client = self.records_client().await?;
        let claim = client
            .prepare_cached(
                "INSERT INTO idempotency_keys (workspace_id, key, request_hash, state, expires_at)
                 VALUES ($1, $2, $3, 'pending', now() + make_interval(secs => $4))
                 ON CONFLICT (workspace_id, key) DO UPDATE
                 SET request_hash = EXCLUDED.request_hash, state = 'pending', status = NULL,
                     body = NULL, created_at = now(), expires_at = EXCLUDED.expires_at
                 WHERE idempotency_keys.expires_at < now()
                 RETURNING 1",
            )
            .await?;
        let seconds = ttl.as_secs_f64();
        if client
            .query_opt(&claim, &[&workspace, &key, &hash, &seconds])
            .await?
            .is_some()
        {
            return Ok(KeyState::Claimed);
        }
        let row = client
            .query_opt(
                "SELECT request_hash, state, status, body FROM idempotency_keys
                 WHERE workspace_id = $1 AND key = $2",
                &[&workspace, &key],
            )
            .await?;
        let Some(row) = row else {
            // Deleted between the two statements (a failed first attempt): retry the claim.
            return Ok(KeyState::Pending);
        };
        let stored: Vec<u8> = row.get(0);
        if stored != hash {
            return Ok(KeyState::Mismatch);
        }
        let state: String = row.get(1);
        Ok(match state.as_str() {
            "done" => KeyState::Done {
                status: row.get::<_, Option<i32>>(2).unwrap_or(200) as u16,
                body: row.get::<_, Option<Vec<u8>>>(3).unwrap_or_default(),
            },
            _ => KeyState::Pending,
        })
    }

    /// Stores the response of a claimed key.
    pub async fn finish_idempotency_key(
        &self,
        workspace: Uuid,
        key: &str,
        status: u16,
        body: &[u8],
    ) -> Result<(), ControlError> {
        let client = self.records_client().await?;
        let statement = client
            .prepare_cached(
                "UPDATE idempotency_keys SET state = 'done', status = $3, body = $4
                 WHERE workspace_id = $1 AND key = $2",
            )
            .await?;
        client
            .execute(&statement, &[&workspace, &key, &(status as i32), &body])
            .await?;
        Ok(())
    }

    /// Releases a claimed key whose request failed in a way a retry may fix.
    pub async fn release_idempotency_key(
        &self,
        workspace: Uuid,
        key: &str,
    ) -> Result<(), ControlError> {
        let client = self.records_client().await?;
        client
            .execute(
                "DELETE FROM idempotency_keys WHERE workspace_id = $1 AND key = $2 AND state = 'pending'",
                &[&workspace, &key],
            )
            .await?;
        Ok(())
    }

    /// Deletes expired records; returns how many.
    pub async fn sweep_idempotency_keys(&self) -> Result<u64, ControlError> {
        let client = self.records_client().await?;
        Ok(client
            .execute("DELETE FROM idempotency_keys WHERE expires_at < now()", &[])
            .await?)
    }
}
