//! Encryption at rest of the database passwords Plinth keeps (AES-256-GCM), under a
//! key the operator controls: `--secret-key-file`, else `<data-dir>/secret-key`.

use std::path::Path;

use aes_gcm::aead::{Aead, KeyInit};
use aes_gcm::{Aes256Gcm, Nonce};
use rand::RngCore;

/// Bytes of the random nonce stored in front of each ciphertext.
const NONCE_BYTES: usize = 12;

/// A problem with the key or a stored secret.
#[derive(Debug, Clone, thiserror::Error)]
pub enum SecretError {
    /// The key file could not be read or written.
    #[error("secret key file {path}: {message}")]
    KeyFile {
        /// The file.
        path: String,
        /// What went wrong.
        message: String,
    },
    /// A stored secret does not decrypt under this key.
    #[error("a stored secret cannot be decrypted with the configured key")]
    Undecryptable,
}

/// Seals and opens secrets.
pub struct SecretBox {
    cipher: Aes256Gcm,
}

impl SecretBox {
    /// Loads the 32-byte key (64 hex characters) from `path`, creating it (mode 0600)
    /// when `create` is set and the file does not exist.
    pub fn load(path: &Path, create: bool) -> Result<Self, SecretError> {
        let fail = |message: String| SecretError::KeyFile {
            path: path.display().to_string(),
            message,
        };
        if !path.exists() && create {
            let mut key = [0u8; 32];
            rand::rng().fill_bytes(&mut key);
            crate::embedded::write_private(path, &hex::encode(key))
                .map_err(|e| fail(e.to_string()))?;
        }
        let text = std::fs::read_to_string(path).map_err(|e| fail(e.to_string()))?;
        let key = hex::decode(text.trim()).map_err(|_| fail("not hex".into()))?;
        if key.len() != 32 {
            return Err(fail("the key must be 32 bytes (64 hex characters)".into()));
        }
        let cipher = Aes256Gcm::new_from_slice(&key).map_err(|e| fail(e.to_string()))?;
        Ok(Self { cipher })
    }

    /// Encrypts `plaintext` as `nonce || ciphertext`.
    pub fn seal(&self, plaintext: &str) -> Vec<u8> {
        let mut nonce = [0u8; NONCE_BYTES];
        rand::rng().fill_bytes(&mut nonce);
        let mut out = nonce.to_vec();
        // Encryption with a fresh nonce and an in-memory buffer cannot fail.
        out.extend(
            self.cipher
                .encrypt(Nonce::from_slice(&nonce), plaintext.as_bytes())
                .unwrap_or_default(),
        );
        out
    }

    /// Decrypts what [`SecretBox::seal`] produced.
    pub fn open(&self, sealed: &[u8]) -> Result<String, SecretError> {
        if sealed.len() <= NONCE_BYTES {
            return Err(SecretError::Undecryptable);
        }
        let (nonce, ciphertext) = sealed.split_at(NONCE_BYTES);
        let plain = self
            .cipher
            .decrypt(Nonce::from_slice(nonce), ciphertext)
            .map_err(|_| SecretError::Undecryptable)?;
        String::from_utf8(plain).map_err(|_| SecretError::Undecryptable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_secrets_open_only_under_their_key() {
        let dir = tempfile::tempdir().unwrap();
        let a = SecretBox::load(&dir.path().join("a"), true).unwrap();
        let b = SecretBox::load(&dir.path().join("b"), true).unwrap();
        let sealed = a.seal("hunter2");
        assert_eq!(a.open(&sealed).unwrap(), "hunter2");
        assert!(b.open(&sealed).is_err());
        assert_ne!(a.seal("hunter2"), sealed, "nonces differ");
    }
}
