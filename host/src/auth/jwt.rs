//! Bearer JWTs: HS256 with a shared secret, RS256/ES256 with public keys from a PEM
//! or JWKS file. `exp` is required and `nbf` honoured.

use std::path::Path;

use jsonwebtoken::jwk::JwkSet;
use jsonwebtoken::{Algorithm, DecodingKey, Validation};
use serde_json::Value;

use crate::config::JwtSettings;

/// Clock skew tolerated on `exp` and `nbf`, in seconds.
const LEEWAY_SECS: u64 = 5;

/// Why a token was not accepted.
#[derive(Debug, thiserror::Error)]
pub enum JwtError {
    /// No verification key is configured.
    #[error("bearer JWTs are not enabled on this server")]
    NotConfigured,
    /// The token has expired.
    #[error("the token has expired")]
    Expired,
    /// The token is not valid yet (`nbf`).
    #[error("the token is not valid yet")]
    NotYetValid,
    /// Signature, algorithm or structure is wrong.
    #[error("the token is invalid: {0}")]
    Invalid(String),
}

/// A key loading problem at start-up.
#[derive(Debug, thiserror::Error)]
#[error("cannot load JWT public keys from {path}: {message}")]
pub struct KeyFileError {
    path: String,
    message: String,
}

struct PublicKey {
    kid: Option<String>,
    algorithm: Algorithm,
    key: DecodingKey,
}

/// Verifies bearer JWTs with the configured keys.
pub struct JwtVerifier {
    secret: Option<DecodingKey>,
    public: Vec<PublicKey>,
    audience: Option<String>,
    issuer: Option<String>,
}

impl JwtVerifier {
    /// Builds the verifier, reading the public-key file if one is configured.
    pub fn new(settings: &JwtSettings) -> Result<Self, KeyFileError> {
        let public = match &settings.public_keys {
            Some(path) => load_public_keys(path)?,
            None => Vec::new(),
        };
        Ok(Self {
            secret: settings
                .secret
                .as_ref()
                .map(|s| DecodingKey::from_secret(s.as_bytes())),
            public,
            audience: settings.audience.clone(),
            issuer: settings.issuer.clone(),
        })
    }

    /// True when any key is configured.
    pub fn is_enabled(&self) -> bool {
        self.secret.is_some() || !self.public.is_empty()
    }

    /// Verifies a token and returns its claims.
    pub fn verify(&self, token: &str) -> Result<Value, JwtError> {
        if !self.is_enabled() {
            return Err(JwtError::NotConfigured);
        }
        let header =
            jsonwebtoken::decode_header(token).map_err(|e| JwtError::Invalid(e.to_string()))?;
        let candidates: Vec<&DecodingKey> = match header.alg {
            Algorithm::HS256 => self.secret.iter().collect(),
            Algorithm::RS256 | Algorithm::ES256 => self
                .public
                .iter()
                .filter(|k| k.algorithm == header.alg)
                .filter(|k| match (&header.kid, &k.kid) {
                    (Some(wanted), Some(have)) => wanted == have,
                    _ => true,
                })
                .map(|k| &k.key)
                .collect(),
            other => {
                return Err(JwtError::Invalid(format!(
                    "algorithm {other:?} is not accepted (use HS256, RS256 or ES256)"
                )))
            }
        };
        if candidates.is_empty() {
            return Err(JwtError::Invalid(format!(
                "no key is configured for {:?}{}",
                header.alg,
                header
                    .kid
                    .map(|k| format!(" with kid `{k}`"))
                    .unwrap_or_default()
            )));
        }
        let validation = self.validation(header.alg);
        let mut last = JwtError::Invalid("no key verified the signature".into());
        for key in candidates {
            match jsonwebtoken::decode::<Value>(token, key, &validation) {
                Ok(data) => return Ok(data.claims),
                Err(e) => last = classify(e),
            }
        }
        Err(last)
    }

    fn validation(&self, algorithm: Algorithm) -> Validation {
        let mut validation = Validation::new(algorithm);
        validation.leeway = LEEWAY_SECS;
        validation.validate_nbf = true;
        validation.set_required_spec_claims(&["exp"]);
        match &self.audience {
            Some(aud) => validation.set_audience(&[aud]),
            None => validation.validate_aud = false,
        }
        if let Some(iss) = &self.issuer {
            validation.set_issuer(&[iss]);
        }
        validation
    }
}

fn classify(error: jsonwebtoken::errors::Error) -> JwtError {
    use jsonwebtoken::errors::ErrorKind;
    match error.kind() {
        ErrorKind::ExpiredSignature => JwtError::Expired,
        ErrorKind::ImmatureSignature => JwtError::NotYetValid,
        ErrorKind::InvalidSignature => JwtError::Invalid("bad signature".into()),
        _ => JwtError::Invalid(error.to_string()),
    }
}

fn load_public_keys(path: &Path) -> Result<Vec<PublicKey>, KeyFileError> {
    let fail = |message: String| KeyFileError {
        path: path.display().to_string(),
        message,
    };
    let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
    let keys = if text.trim_start().starts_with('{') {
        let set: JwkSet = serde_json::from_str(&text).map_err(|e| fail(e.to_string()))?;
        set.keys
            .iter()
            .filter_map(|jwk| {
                let key = DecodingKey::from_jwk(jwk).ok()?;
                let algorithm = match &jwk.algorithm {
                    jsonwebtoken::jwk::AlgorithmParameters::RSA(_) => Algorithm::RS256,
                    jsonwebtoken::jwk::AlgorithmParameters::EllipticCurve(_) => Algorithm::ES256,
                    _ => return None,
                };
                Some(PublicKey {
                    kid: jwk.common.key_id.clone(),
                    algorithm,
                    key,
                })
            })
            .collect()
    } else {
        pem_blocks(&text)
            .into_iter()
            .filter_map(|block| {
                if let Ok(key) = DecodingKey::from_rsa_pem(block.as_bytes()) {
                    return Some(PublicKey {
                        kid: None,
                        algorithm: Algorithm::RS256,
                        key,
                    });
                }
                DecodingKey::from_ec_pem(block.as_bytes())
                    .ok()
                    .map(|key| PublicKey {
                        kid: None,
                        algorithm: Algorithm::ES256,
                        key,
                    })
            })
            .collect::<Vec<_>>()
    };
    if keys.is_empty() {
        return Err(fail("no RSA or EC public key found".into()));
    }
    Ok(keys)
}

/// Splits a PEM file into its `-----BEGIN ... END-----` blocks.
fn pem_blocks(text: &str) -> Vec<String> {
    let mut blocks = Vec::new();
    let mut current = String::new();
    for line in text.lines() {
        if line.starts_with("-----BEGIN") {
            current.clear();
        }
        current.push_str(line);
        current.push('\n');
        if line.starts_with("-----END") {
            blocks.push(std::mem::take(&mut current));
        }
    }
    blocks
}
