//! SNI certificate resolver, in order: a pending TLS-ALPN-01 challenge (client offers only
//! `acme-tls/1`), a custom domain's certificate from the table (uploaded or ACME; exact name,
//! then wildcard), a leaf per requested name under the platform domain issued by the platform CA
//! on first use and cached, and a fallback certificate for no SNI and for unknown names.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::sync::{Arc, Mutex};

use rustls::server::{ClientHello, ResolvesServerCert};
use rustls::sign::CertifiedKey;

use crate::ca::{LeafName, PlatformCa};
use crate::compiled::Live;
use crate::error::RouterError;

/// The ALPN protocol of TLS-ALPN-01 validation (RFC 8737).
pub(crate) const ACME_TLS_ALPN: &[u8] = b"acme-tls/1";

/// Above this many cached leaves the cache is emptied (names are attacker-chosen via SNI).
const MAX_CACHED: usize = 4096;

/// Issues and caches one leaf certificate per host name under the platform domain.
pub(crate) struct SniResolver {
    ca: Arc<PlatformCa>,
    domain: String,
    cache: Mutex<HashMap<String, Arc<CertifiedKey>>>,
    fallback: Arc<CertifiedKey>,
    live: Arc<Live>,
}

impl std::fmt::Debug for SniResolver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SniResolver")
            .field("domain", &self.domain)
            .finish_non_exhaustive()
    }
}

impl SniResolver {
    /// `extra_ips`: the listener's own addresses, added to the fallback certificate (used when a
    /// client connects by IP and sends no SNI).
    pub(crate) fn new(
        ca: Arc<PlatformCa>,
        domain: &str,
        extra_ips: &[IpAddr],
        live: Arc<Live>,
    ) -> Result<Self, RouterError> {
        let domain = domain.trim_end_matches('.').to_ascii_lowercase();
        let mut names = Vec::new();
        match domain.parse::<IpAddr>() {
            Ok(ip) => names.push(LeafName::Ip(ip)),
            Err(_) => names.push(LeafName::Dns(domain.clone())),
        }
        for name in [
            LeafName::Dns("localhost".into()),
            LeafName::Ip(IpAddr::V4(Ipv4Addr::LOCALHOST)),
            LeafName::Ip(IpAddr::V6(Ipv6Addr::LOCALHOST)),
        ]
        .into_iter()
        .chain(
            extra_ips
                .iter()
                .filter(|ip| !ip.is_unspecified())
                .map(|ip| LeafName::Ip(*ip)),
        ) {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        let fallback = ca.issue(&names)?;
        Ok(Self {
            ca,
            domain,
            cache: Mutex::new(HashMap::new()),
            fallback,
            live,
        })
    }

    fn is_ours(&self, name: &str) -> bool {
        name == self.domain
            || name
                .strip_suffix(self.domain.as_str())
                .is_some_and(|prefix| prefix.len() > 1 && prefix.ends_with('.'))
    }

    /// The certificate to present for this SNI name (`None` = no SNI).
    pub(crate) fn cert_for(&self, sni: Option<&str>) -> Arc<CertifiedKey> {
        let Some(name) = sni.map(|s| s.trim_end_matches('.').to_ascii_lowercase()) else {
            return self.fallback.clone();
        };
        if let Some(cert) = self.live.load().cert_for(&name) {
            return cert;
        }
        if !self.is_ours(&name) {
            return self.fallback.clone();
        }
        let mut cache = self.cache.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(cert) = cache.get(&name) {
            return cert.clone();
        }
        match self.ca.issue(&[LeafName::Dns(name.clone())]) {
            Ok(cert) => {
                if cache.len() >= MAX_CACHED {
                    cache.clear();
                }
                cache.insert(name, cert.clone());
                cert
            }
            Err(e) => {
                tracing::warn!(host = %name, error = %e, "could not issue a certificate; serving the fallback");
                self.fallback.clone()
            }
        }
    }
}

impl ResolvesServerCert for SniResolver {
    fn resolve(&self, client_hello: ClientHello<'_>) -> Option<Arc<CertifiedKey>> {
        let sni = client_hello.server_name();
        let acme_only = client_hello
            .alpn()
            .is_some_and(|mut protocols| protocols.all(|p| p == ACME_TLS_ALPN));
        if acme_only {
            // Only a validation server asks for acme-tls/1 alone; it gets the challenge
            // certificate or nothing (the handshake fails).
            let name = sni?.trim_end_matches('.').to_ascii_lowercase();
            return self.live.load().tls_alpn01.get(&name).cloned();
        }
        Some(self.cert_for(sni))
    }
}
