//! HTTPS with rustls from a PEM certificate chain and key.

use std::io::BufReader;
use std::sync::Arc;

use tokio_rustls::TlsAcceptor;

use crate::config::TlsSettings;

/// A certificate or key that cannot be used.
#[derive(Debug, thiserror::Error)]
#[error("TLS: {0}")]
pub struct TlsError(String);

/// Builds the acceptor, offering HTTP/2 and HTTP/1.1 by ALPN.
pub fn acceptor(settings: &TlsSettings) -> Result<TlsAcceptor, TlsError> {
    let cert_file = std::fs::File::open(&settings.cert)
        .map_err(|e| TlsError(format!("{}: {e}", settings.cert.display())))?;
    let certs = rustls_pemfile::certs(&mut BufReader::new(cert_file))
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| TlsError(format!("{}: {e}", settings.cert.display())))?;
    if certs.is_empty() {
        return Err(TlsError(format!(
            "{} holds no certificate",
            settings.cert.display()
        )));
    }
    let key_file = std::fs::File::open(&settings.key)
        .map_err(|e| TlsError(format!("{}: {e}", settings.key.display())))?;
    let key = rustls_pemfile::private_key(&mut BufReader::new(key_file))
        .map_err(|e| TlsError(format!("{}: {e}", settings.key.display())))?
        .ok_or_else(|| TlsError(format!("{} holds no private key", settings.key.display())))?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| TlsError(e.to_string()))?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| TlsError(e.to_string()))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}
