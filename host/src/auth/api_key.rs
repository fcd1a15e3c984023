//! API keys: `plk_<lookup id>_<secret>`. The lookup id finds the record; only a
//! SHA-256 of the secret is stored, and it is compared in constant time.

use base64::Engine;
use rand::RngCore;
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

/// The recognisable prefix of every Plinth API key.
pub const PREFIX: &str = "plk_";

/// A freshly generated key: the plaintext is shown once, then only the hash is kept.
#[derive(Debug)]
pub struct NewKey {
    /// The whole key to hand to the client.
    pub plaintext: String,
    /// The public part that locates the record.
    pub lookup_id: String,
    /// SHA-256 of the secret part.
    pub secret_hash: Vec<u8>,
}

/// Generates a key with 128 bits of lookup id and 256 bits of secret.
pub fn generate() -> NewKey {
    let mut rng = rand::rng();
    let mut lookup = [0u8; 8];
    let mut secret = [0u8; 32];
    rng.fill_bytes(&mut lookup);
    rng.fill_bytes(&mut secret);
    let lookup_id = hex::encode(lookup);
    let secret_text = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(secret);
    NewKey {
        plaintext: format!("{PREFIX}{lookup_id}_{secret_text}"),
        secret_hash: hash_secret(&secret_text).to_vec(),
        lookup_id,
    }
}

/// Splits a presented key into its lookup id and secret, or `None` if it is not a
/// Plinth key at all.
pub fn split(presented: &str) -> Option<(&str, &str)> {
    let rest = presented.strip_prefix(PREFIX)?;
    let (lookup, secret) = rest.split_once('_')?;
    let well_formed = lookup.len() == 16
        && lookup.bytes().all(|b| b.is_ascii_hexdigit())
        && (20..=100).contains(&secret.len());
    well_formed.then_some((lookup, secret))
}

/// SHA-256 of a secret.
pub fn hash_secret(secret: &str) -> [u8; 32] {
    Sha256::digest(secret.as_bytes()).into()
}

/// Compares a presented secret with a stored hash in constant time.
pub fn secret_matches(secret: &str, stored_hash: &[u8]) -> bool {
    hash_secret(secret).as_slice().ct_eq(stored_hash).into()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_generated_key_verifies_against_its_own_hash_only() {
        let key = generate();
        let (lookup, secret) = split(&key.plaintext).expect("well formed");
        assert_eq!(lookup, key.lookup_id);
        assert!(secret_matches(secret, &key.secret_hash));
        assert!(!secret_matches(
            "not-the-secret-at-all-xx",
            &key.secret_hash
        ));
    }

    #[test]
    fn foreign_strings_are_not_keys() {
        assert!(split("eyJhbGciOi.x.y").is_none());
        assert!(split("plk_short_secret").is_none());
        assert!(split("plk_zzzzzzzzzzzzzzzz_aaaaaaaaaaaaaaaaaaaaaaaa").is_none());
    }
}
