//! The platform CA: created once in the data directory, then used to issue per-host leaf certificates.

use std::fs;
use std::io::Write;
use std::net::IpAddr;
use std::os::unix::fs::{OpenOptionsExt, PermissionsExt};
use std::path::{Path, PathBuf};
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose, SanType, PKCS_ECDSA_P256_SHA256,
};
use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
use rustls::sign::CertifiedKey;
use time::{Duration, OffsetDateTime};

use crate::error::RouterError;

const CA_FILE: &str = "ca.pem";
const CA_KEY_FILE: &str = "ca-key.pem";
const CA_VALIDITY: Duration = Duration::days(3653);
const LEAF_VALIDITY: Duration = Duration::days(365);

/// The platform's certificate authority (ECDSA P-256), persisted as `ca.pem` + `ca-key.pem`.
pub struct PlatformCa {
    ca_pem: String,
    ca_der: CertificateDer<'static>,
    issuer: Issuer<'static, KeyPair>,
}

impl std::fmt::Debug for PlatformCa {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never print the key.
        f.debug_struct("PlatformCa").finish_non_exhaustive()
    }
}

/// A name a leaf certificate is issued for.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub(crate) enum LeafName {
    Dns(String),
    Ip(IpAddr),
}

impl PlatformCa {
    /// Loads `<data_dir>/ca.pem` + `<data_dir>/ca-key.pem` (key mode 0600), creating them on first
    /// start (ECDSA P-256, CN "doppel platform CA (<domain>)", 10 years).
    ///
    /// A key without a certificate is the trace of an interrupted first start and is replaced;
    /// a certificate without its key is an error (clients may already trust that CA).
    pub fn load_or_create(data_dir: &Path, domain: &str) -> Result<PlatformCa, RouterError> {
        let cert_path = data_dir.join(CA_FILE);
        let key_path = data_dir.join(CA_KEY_FILE);
        if cert_path.exists() {
            return Self::load(&cert_path, &key_path);
        }
        fs::create_dir_all(data_dir).map_err(|source| RouterError::Write {
            path: data_dir.to_path_buf(),
            source,
        })?;
        let ca = Self::create(domain)?;
        write_file(&key_path, ca.issuer.key().serialize_pem().as_bytes(), 0o600)?;
        write_file(&cert_path, ca.ca_pem.as_bytes(), 0o644)?;
        tracing::info!(path = %cert_path.display(), "created the platform CA");
        Ok(ca)
    }

    /// The CA certificate in PEM, for clients to trust.
    pub fn ca_pem(&self) -> &str {
        &self.ca_pem
    }

    /// The CA certificate in DER.
    pub fn ca_der(&self) -> &CertificateDer<'static> {
        &self.ca_der
    }

    fn create(domain: &str) -> Result<PlatformCa, RouterError> {
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut dn = DistinguishedName::new();
        dn.push(DnType::CommonName, format!("doppel platform CA ({domain})"));
        dn.push(DnType::OrganizationName, "doppel");
        params.distinguished_name = dn;
        params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
        params.key_usages = vec![
            KeyUsagePurpose::KeyCertSign,
            KeyUsagePurpose::CrlSign,
            KeyUsagePurpose::DigitalSignature,
        ];
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + CA_VALIDITY;
        let cert = params.self_signed(&key)?;
        Ok(PlatformCa {
            ca_pem: cert.pem(),
            ca_der: cert.der().clone(),
            issuer: Issuer::new(params, key),
        })
    }

    fn load(cert_path: &Path, key_path: &Path) -> Result<PlatformCa, RouterError> {
        let ca_pem = read_file(cert_path)?;
        let key_pem = read_file(key_path)?;
        tighten_key_mode(key_path)?;
        let invalid = |path: &Path, reason: String| RouterError::InvalidCa {
            path: path.to_path_buf(),
            reason,
        };
        let key = KeyPair::from_pem(&key_pem).map_err(|e| invalid(key_path, e.to_string()))?;
        let ca_der = rustls_pemfile::certs(&mut ca_pem.as_bytes())
            .next()
            .ok_or_else(|| invalid(cert_path, "no certificate in file".into()))?
            .map_err(|e| invalid(cert_path, e.to_string()))?;
        let issuer = Issuer::from_ca_cert_der(&ca_der, key)
            .map_err(|e| invalid(cert_path, e.to_string()))?;
        // The key must be the certificate's key, or every leaf would fail verification.
        let signing = signing_key(issuer.key())?;
        CertifiedKey::new(vec![ca_der.clone()], signing)
            .keys_match()
            .map_err(|e| invalid(key_path, format!("key does not match the certificate: {e}")))?;
        Ok(PlatformCa {
            ca_pem,
            ca_der,
            issuer,
        })
    }

    /// Issues a leaf certificate for exactly these names, signed by the CA, with a fresh key.
    pub(crate) fn issue(&self, names: &[LeafName]) -> Result<Arc<CertifiedKey>, RouterError> {
        let mut params = CertificateParams::new(Vec::<String>::new())?;
        let mut sans = Vec::with_capacity(names.len());
        for name in names {
            sans.push(match name {
                LeafName::Dns(n) => SanType::DnsName(n.clone().try_into()?),
                LeafName::Ip(ip) => SanType::IpAddress(*ip),
            });
        }
        params.subject_alt_names = sans;
        let mut dn = DistinguishedName::new();
        if let Some(first) = names.first() {
            let cn = match first {
                LeafName::Dns(n) => n.clone(),
                LeafName::Ip(ip) => ip.to_string(),
            };
            dn.push(DnType::CommonName, cn);
        }
        params.distinguished_name = dn;
        params.is_ca = IsCa::ExplicitNoCa;
        params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
        params.use_authority_key_identifier_extension = true;
        let now = OffsetDateTime::now_utc();
        params.not_before = now - Duration::hours(1);
        params.not_after = now + LEAF_VALIDITY;
        let key = KeyPair::generate_for(&PKCS_ECDSA_P256_SHA256)?;
        let cert = params.signed_by(&key, &self.issuer)?;
        let chain = vec![cert.der().clone(), self.ca_der.clone()];
        Ok(Arc::new(CertifiedKey::new(chain, signing_key(&key)?)))
    }
}

fn signing_key(key: &KeyPair) -> Result<Arc<dyn rustls::sign::SigningKey>, RouterError> {
    let der = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(key.serialize_der()));
    Ok(rustls::crypto::ring::sign::any_supported_type(&der)?)
}

fn read_file(path: &Path) -> Result<String, RouterError> {
    fs::read_to_string(path).map_err(|source| RouterError::Read {
        path: path.to_path_buf(),
        source,
    })
}

/// Writes `contents` to a temporary file with `mode`, then renames it into place.
fn write_file(path: &Path, contents: &[u8], mode: u32) -> Result<(), RouterError> {
    let tmp: PathBuf = path.with_extension("pem.tmp");
    let err = |source| RouterError::Write {
        path: path.to_path_buf(),
        source,
    };
    let _ = fs::remove_file(&tmp);
    let mut file = fs::OpenOptions::new()
        .write(true)
        .create_new(true)
        .mode(mode)
        .open(&tmp)
        .map_err(err)?;
    file.write_all(contents).map_err(err)?;
    file.sync_all().map_err(err)?;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(mode)).map_err(err)?;
    fs::rename(&tmp, path).map_err(err)
}

/// The CA key must not be readable by others: fix a wider mode (and say so) rather than refuse.
fn tighten_key_mode(key_path: &Path) -> Result<(), RouterError> {
    let meta = fs::metadata(key_path).map_err(|source| RouterError::Read {
        path: key_path.to_path_buf(),
        source,
    })?;
    let mode = meta.permissions().mode() & 0o777;
    if mode & 0o077 != 0 {
        tracing::warn!(path = %key_path.display(), mode = format!("{mode:o}"), "platform CA key was readable by others; setting mode 0600");
        fs::set_permissions(key_path, fs::Permissions::from_mode(0o600)).map_err(|source| {
            RouterError::Write {
                path: key_path.to_path_buf(),
                source,
            }
        })?;
    }
    Ok(())
}
