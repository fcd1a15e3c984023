//! Replicas sharing the control database: each registers, keeps a heartbeat, and
//! acknowledges the invalidations that must reach every replica before a change is
//! reported done (an API-key revocation waits for every live replica's ack).

use std::time::Duration;

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::{ControlDb, ControlError};

/// How often a replica says it is alive.
pub const HEARTBEAT: Duration = Duration::from_secs(5);
/// A replica silent for this long is no longer waited for.
pub const LIVENESS_SECS: f64 = 15.0;

impl ControlDb {
    /// Registers this process as a replica.
    pub async fn register_replica(&self, id: Uuid) -> Result<(), ControlError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO replicas (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET heartbeat_at = now()",
                &[&id],
            )
            .await?;
        Ok(())
    }

    /// Refreshes the heartbeat and forgets replicas and acks gone for an hour.
    pub async fn heartbeat(&self, id: Uuid) -> Result<(), ControlError> {
        let client = self.client().await?;
        client
            .batch_execute(
                "DELETE FROM invalidation_acks WHERE acked_at < now() - interval '1 hour';
                 DELETE FROM replicas WHERE heartbeat_at < now() - interval '1 hour';",
            )
            .await?;
        drop(client);
        self.register_replica(id).await
    }

    /// Removes this replica at shutdown, so revocations stop waiting for it.
    pub async fn deregister_replica(&self, id: Uuid) -> Result<(), ControlError> {
        let client = self.client().await?;
        client
            .execute("DELETE FROM replicas WHERE id = $1", &[&id])
            .await?;
        Ok(())
    }

    /// Records that this replica applied an invalidation.
    pub async fn acknowledge(&self, replica: Uuid, payload: &str) -> Result<(), ControlError> {
        let client = self.client().await?;
        client
            .execute(
                "INSERT INTO invalidation_acks (replica_id, payload) VALUES ($1, $2)
                 ON CONFLICT (replica_id, payload) DO UPDATE SET acked_at = now()",
                &[&replica, &payload],
            )
            .await?;
        Ok(())
    }

    /// Live replicas, started before `since`, that have not acknowledged `payload`
    /// since then (a replica started later never cached the old state).
    pub async fn replicas_behind(
        &self,
        payload: &str,
        since: DateTime<Utc>,
    ) -> Result<i64, ControlError> {
        let client = self.client().await?;
        Ok(client
            .query_one(
                "SELECT count(*) FROM replicas r
                 WHERE r.heartbeat_at > now() - make_interval(secs => $3)
                   AND r.started_at < $2
                   AND NOT EXISTS (SELECT 1 FROM invalidation_acks a
                                   WHERE a.replica_id = r.id AND a.payload = $1 AND a.acked_at >= $2)",
                &[&payload, &since, &LIVENESS_SECS],
            )
            .await?
            .get(0))
    }
}
