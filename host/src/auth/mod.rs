//! Authentication and scopes: who is calling (admin token, API key or JWT), for which
//! workspace, with which scopes. Key lookups are cached and dropped at once when any
//! replica revokes a key.

pub mod api_key;
pub mod jwt;
mod principal;
pub mod scopes;

use std::sync::Arc;
use std::time::Duration;

use futures::FutureExt;
use moka::future::Cache;
use subtle::ConstantTimeEq;
use uuid::Uuid;

pub use jwt::{JwtError, JwtVerifier};
pub use principal::{Credential, Principal};
pub use scopes::{Scope, ScopeSet};

use crate::control::api_keys::StoredKey;
use crate::control::expiry::JitteredTtl;
use crate::control::notify::{Dropping, Invalidation, Invalidations};
use crate::control::{ControlDb, ControlError};

/// How long a key lookup is trusted without a notification (at most).
const KEY_CACHE_TTL: Duration = Duration::from_secs(300);
/// Keys remembered at once.
const KEY_CACHE_CAPACITY: u64 = 100_000;
/// How long a revocation waits for every replica's acknowledgement.
const REVOCATION_WAIT: Duration = Duration::from_secs(3);
/// How often it looks.
const REVOCATION_POLL: Duration = Duration::from_millis(5);

/// Why a request is not let in.
#[derive(Debug, thiserror::Error)]
pub enum AuthError {
    /// No `Authorization: Bearer` header.
    #[error("missing bearer credential: send `Authorization: Bearer <api key or JWT>`")]
    Missing,
    /// The credential is not valid.
    #[error("invalid credential: {0}")]
    Invalid(String),
    /// The JWT has expired.
    #[error("the token has expired")]
    Expired,
    /// Valid, but for another workspace.
    #[error("this credential belongs to another workspace")]
    WrongWorkspace,
    /// Valid, but without the scope.
    #[error("this credential lacks the `{0}` scope")]
    MissingScope(Scope),
    /// Only the platform admin token may do this.
    #[error("this endpoint needs the platform admin token")]
    AdminOnly,
    /// The credential names no workspace where one is needed.
    #[error("{0}")]
    NoWorkspace(&'static str),
    /// The control database could not be asked.
    #[error(transparent)]
    Control(#[from] ControlError),
}

/// A stored API key as the cache keeps it: its scopes and claims worked out once,
/// not on every request it signs.
struct KnownKey {
    stored: StoredKey,
    scopes: ScopeSet,
    claims: Arc<serde_json::Value>,
}

/// Checks credentials.
pub struct Authenticator {
    admin_token: String,
    jwt: JwtVerifier,
    workspace_claim: String,
    control: ControlDb,
    keys: Cache<String, Option<Arc<KnownKey>>>,
    invalidations: Invalidations,
}

impl Authenticator {
    /// Builds the authenticator and subscribes its key cache to invalidations.
    pub fn new(
        admin_token: String,
        jwt: JwtVerifier,
        workspace_claim: String,
        control: ControlDb,
        invalidations: Invalidations,
    ) -> Arc<Self> {
        let keys = Cache::builder()
            .max_capacity(KEY_CACHE_CAPACITY)
            .expire_after(JitteredTtl::new(KEY_CACHE_TTL))
            .build();
        let this = Arc::new(Self {
            admin_token,
            jwt,
            workspace_claim,
            control,
            keys,
            invalidations,
        });
        this.invalidations
            .follow(&this.keys, |message| match message {
                Invalidation::Key(lookup) => Dropping::Keys(vec![lookup.clone()]),
                _ => Dropping::Nothing,
            });
        this
    }

    /// The invalidation listener this authenticator's caches follow.
    pub fn invalidations(&self) -> &Invalidations {
        &self.invalidations
    }

    /// This process's replica id in the control database.
    pub fn replica(&self) -> Uuid {
        self.invalidations.replica()
    }

    /// Revokes a key and returns once every live replica has acknowledged dropping
    /// it (or after a bounded wait); false when there is no such key.
    pub async fn revoke_key(&self, workspace_id: Uuid, key_id: Uuid) -> Result<bool, AuthError> {
        let Some((lookup, revoked_at)) = self.control.revoke_api_key(workspace_id, key_id).await?
        else {
            return Ok(false);
        };
        self.keys.invalidate(&lookup).await;
        let payload = format!("key:{lookup}");
        let started = std::time::Instant::now();
        loop {
            let behind = self.control.replicas_behind(&payload, revoked_at).await?;
            if behind == 0 {
                break;
            }
            if started.elapsed() > REVOCATION_WAIT {
                tracing::warn!(%key_id, behind, "replicas did not acknowledge the revocation in time; they drop the key within the cache TTL");
                break;
            }
            tokio::time::sleep(REVOCATION_POLL).await;
        }
        Ok(true)
    }

    /// Authenticates the value of an `Authorization` header.
    pub async fn authenticate(&self, header: Option<&str>) -> Result<Principal, AuthError> {
        let token = header
            .and_then(|h| {
                h.strip_prefix("Bearer ")
                    .or_else(|| h.strip_prefix("bearer "))
            })
            .map(str::trim)
            .filter(|t| !t.is_empty())
            .ok_or(AuthError::Missing)?;
        if bool::from(token.as_bytes().ct_eq(self.admin_token.as_bytes())) {
            return Ok(Principal::admin());
        }
        if token.starts_with(api_key::PREFIX) {
            return self.api_key(token).await;
        }
        self.jwt_principal(token)
    }

    async fn api_key(&self, token: &str) -> Result<Principal, AuthError> {
        let invalid = || AuthError::Invalid("unknown or revoked API key".into());
        let (lookup, secret) = api_key::split(token).ok_or_else(invalid)?;
        let known = if !self.invalidations.is_listening() {
            self.find_key(lookup).boxed().await?
        } else if let Some(hit) = self.keys.get(lookup).await {
            hit
        } else {
            // Boxed: the loading future is large, and a hit should not carry it.
            self.load_key(lookup).boxed().await?
        };
        let known = known.ok_or_else(invalid)?;
        let stored = &known.stored;
        if !api_key::secret_matches(secret, &stored.secret_hash) {
            return Err(invalid());
        }
        Ok(Principal {
            credential: Credential::ApiKey { key_id: stored.id },
            workspace_id: Some(stored.workspace_id),
            scopes: known.scopes,
            claims: known.claims.clone(),
        })
    }

    /// A miss: one lookup for every request that misses `lookup` meanwhile.
    async fn load_key(&self, lookup: &str) -> Result<Option<Arc<KnownKey>>, AuthError> {
        let cached = async {
            self.keys
                .try_get_with_by_ref(lookup, self.find_key(lookup))
                .await
                .map_err(|shared| match &*shared {
                    AuthError::Control(error) => AuthError::Control(error.shared()),
                    other => AuthError::Invalid(other.to_string()),
                })
        };
        self.invalidations
            .guard(cached, self.keys.invalidate(lookup), self.find_key(lookup))
            .await
    }

    /// A key from the control database, with what every request it signs needs.
    async fn find_key(&self, lookup: &str) -> Result<Option<Arc<KnownKey>>, AuthError> {
        Ok(self.control.find_api_key(lookup).await?.map(|stored| {
            Arc::new(KnownKey {
                scopes: ScopeSet::from_names(stored.scopes.iter().map(String::as_str)),
                claims: Arc::new(serde_json::json!({ "role": "api_key", "key_id": stored.id })),
                stored,
            })
        }))
    }

    fn jwt_principal(&self, token: &str) -> Result<Principal, AuthError> {
        let claims = self.jwt.verify(token).map_err(|e| match e {
            JwtError::Expired => AuthError::Expired,
            other => AuthError::Invalid(other.to_string()),
        })?;
        let workspace_id = claims
            .get(&self.workspace_claim)
            .and_then(|v| v.as_str())
            .and_then(|s| Uuid::parse_str(s).ok());
        let scopes = match (claims.get("scope"), claims.get("permissions")) {
            (Some(serde_json::Value::String(s)), _) => ScopeSet::from_names(s.split_whitespace()),
            (_, Some(serde_json::Value::Array(list))) => {
                ScopeSet::from_names(list.iter().filter_map(|v| v.as_str()))
            }
            _ => ScopeSet::default(),
        };
        let subject = claims
            .get("sub")
            .and_then(|v| v.as_str())
            .map(str::to_owned);
        Ok(Principal {
            credential: Credential::Jwt { subject },
            workspace_id,
            scopes,
            claims: Arc::new(claims),
        })
    }
}
