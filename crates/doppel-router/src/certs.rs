//! Certificates from PEM: parsing a chain and its key into what rustls serves, and reading a
//! certificate's names and validity (for the control plane, which validates uploads with it).

use std::sync::Arc;

use rustls::pki_types::CertificateDer;
use rustls::sign::CertifiedKey;
use time::OffsetDateTime;

use crate::table::Certificate;

/// Why a certificate or key was refused.
#[derive(Debug, thiserror::Error)]
pub enum CertError {
    #[error("no certificate found in the PEM chain")]
    NoCertificate,
    #[error("the PEM chain could not be read: {0}")]
    Pem(String),
    #[error("no private key found (PKCS#8, PKCS#1 or SEC1 PEM expected)")]
    NoKey,
    #[error("the private key is not usable: {0}")]
    Key(String),
    #[error("the private key does not match the certificate")]
    KeyMismatch,
    #[error("the certificate could not be parsed: {0}")]
    Parse(String),
}

/// What the control plane shows of a certificate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CertInfo {
    /// DNS names of the subject alternative names (lowercase), else the common name.
    pub names: Vec<String>,
    pub not_before: OffsetDateTime,
    pub not_after: OffsetDateTime,
    pub subject: String,
    pub issuer: String,
    /// True when issuer and subject are the same (self-signed).
    pub self_signed: bool,
}

/// Parses a PEM chain (leaf first) and key into a key rustls can serve; checks they match.
pub fn certified_key(chain_pem: &str, key_pem: &str) -> Result<Arc<CertifiedKey>, CertError> {
    let chain = chain(chain_pem)?;
    let key = rustls_pemfile::private_key(&mut key_pem.as_bytes())
        .map_err(|e| CertError::Key(e.to_string()))?
        .ok_or(CertError::NoKey)?;
    let signing = rustls::crypto::ring::sign::any_supported_type(&key)
        .map_err(|e| CertError::Key(e.to_string()))?;
    let certified = CertifiedKey::new(chain, signing);
    match certified.keys_match() {
        Ok(()) => Ok(Arc::new(certified)),
        Err(rustls::Error::InconsistentKeys(_)) => Err(CertError::KeyMismatch),
        // The provider cannot tell (no public key to compare): accept, as rustls does.
        Err(_) => Ok(Arc::new(certified)),
    }
}

fn chain(chain_pem: &str) -> Result<Vec<CertificateDer<'static>>, CertError> {
    let chain: Vec<CertificateDer<'static>> = rustls_pemfile::certs(&mut chain_pem.as_bytes())
        .collect::<Result<_, _>>()
        .map_err(|e| CertError::Pem(e.to_string()))?;
    if chain.is_empty() {
        return Err(CertError::NoCertificate);
    }
    Ok(chain)
}

/// Names, validity, subject and issuer of the first (leaf) certificate of a PEM chain.
pub fn inspect(chain_pem: &str) -> Result<CertInfo, CertError> {
    let chain = chain(chain_pem)?;
    let leaf = chain.first().ok_or(CertError::NoCertificate)?;
    let (_, cert) = x509_parser::parse_x509_certificate(leaf.as_ref())
        .map_err(|e| CertError::Parse(e.to_string()))?;
    let mut names: Vec<String> = Vec::new();
    if let Ok(Some(san)) = cert.subject_alternative_name() {
        for name in &san.value.general_names {
            if let x509_parser::extensions::GeneralName::DNSName(n) = name {
                names.push(n.to_ascii_lowercase());
            }
        }
    }
    if names.is_empty() {
        if let Some(cn) = cert
            .subject()
            .iter_common_name()
            .next()
            .and_then(|cn| cn.as_str().ok())
        {
            names.push(cn.to_ascii_lowercase());
        }
    }
    let validity = cert.validity();
    Ok(CertInfo {
        names,
        not_before: validity.not_before.to_datetime(),
        not_after: validity.not_after.to_datetime(),
        subject: cert.subject().to_string(),
        issuer: cert.issuer().to_string(),
        self_signed: cert.subject() == cert.issuer(),
    })
}

/// Whether a certificate name (`example.com` or `*.example.com`) covers `host`.
pub fn name_covers(name: &str, host: &str) -> bool {
    let (name, host) = (name.to_ascii_lowercase(), host.to_ascii_lowercase());
    match name.strip_prefix("*.") {
        Some(parent) => host
            .split_once('.')
            .is_some_and(|(label, rest)| !label.is_empty() && rest == parent),
        None => name == host,
    }
}

/// A digest of what a certificate entry was parsed from (never of the key alone).
pub(crate) fn fingerprint(cert: &Certificate) -> u64 {
    let mut h = blake3::Hasher::new();
    h.update(cert.chain_pem.as_bytes());
    h.update(b"\0");
    h.update(cert.key_pem.as_bytes());
    let bytes = h.finalize();
    let mut first = [0u8; 8];
    first.copy_from_slice(&bytes.as_bytes()[..8]);
    u64::from_le_bytes(first)
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_cover_one_label() {
        assert!(name_covers("*.example.com", "www.example.com"));
        assert!(!name_covers("*.example.com", "a.b.example.com"));
        assert!(!name_covers("*.example.com", "example.com"));
        assert!(name_covers("Example.com", "example.com"));
    }

    #[test]
    fn parses_and_checks_the_key() {
        let key = rcgen::KeyPair::generate().unwrap();
        let cert = rcgen::CertificateParams::new(vec!["www.example.com".to_string()])
            .unwrap()
            .self_signed(&key)
            .unwrap();
        let info = inspect(&cert.pem()).unwrap();
        assert_eq!(info.names, vec!["www.example.com"]);
        assert!(info.self_signed);
        assert!(certified_key(&cert.pem(), &key.serialize_pem()).is_ok());
        let other = rcgen::KeyPair::generate().unwrap();
        assert!(matches!(
            certified_key(&cert.pem(), &other.serialize_pem()),
            Err(CertError::KeyMismatch)
        ));
        assert!(matches!(
            certified_key("nothing", &key.serialize_pem()),
            Err(CertError::NoCertificate)
        ));
    }
}
