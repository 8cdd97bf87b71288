//! TLS for HTTPS connectors: rustls (ring provider) from PEM files, ALPN `h2` and `http/1.1`.

use std::path::Path;
use std::sync::Arc;

use rotor::Error;
use rotor::engine::TlsFiles;
use rustls::ServerConfig;
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use tokio_rustls::TlsAcceptor;

/// Builds the TLS acceptor of a connector from its PEM files.
///
/// # Errors
/// If a file cannot be read or holds no usable certificate or key; the message names the file and the key.
pub(crate) fn acceptor(files: &TlsFiles) -> Result<TlsAcceptor, Error> {
    let certificates = read_certificates(&files.certificate)?;
    let key = read_private_key(&files.private_key)?;
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let mut config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|error| Error::config(format!("cannot set up TLS: {error}")))?
        .with_no_client_auth()
        .with_single_cert(certificates, key)
        .map_err(|error| {
            Error::config(format!(
                "the TLS certificate {} and private key {} do not form a usable pair: {error} \
                 (rotor.security.ssl.certificate / rotor.security.ssl.privateKey)",
                files.certificate.display(),
                files.private_key.display()
            ))
        })?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

fn read_certificates(path: &Path) -> Result<Vec<CertificateDer<'static>>, Error> {
    let certificates =
        CertificateDer::pem_file_iter(path).and_then(Iterator::collect::<Result<Vec<_>, _>>).map_err(|error| {
            Error::config(format!(
                "cannot read the TLS certificate chain from {} (rotor.security.ssl.certificate): {error}",
                path.display()
            ))
        })?;
    if certificates.is_empty() {
        return Err(Error::config(format!(
            "{} holds no PEM certificate (rotor.security.ssl.certificate): expected -----BEGIN CERTIFICATE-----",
            path.display()
        )));
    }
    Ok(certificates)
}

fn read_private_key(path: &Path) -> Result<PrivateKeyDer<'static>, Error> {
    PrivateKeyDer::from_pem_file(path).map_err(|error| {
        Error::config(format!(
            "cannot read a PEM private key (PKCS#8, PKCS#1 or SEC1) from {} (rotor.security.ssl.privateKey): {error}",
            path.display()
        ))
    })
}
