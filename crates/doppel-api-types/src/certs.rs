//! Uploaded certificates (Heroku's SNI endpoints).

use serde::{Deserialize, Serialize};

use crate::common::NamedRef;

/// `GET /apps/{app}/sni-endpoints[/{id|name}]`: never carries the private key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SniEndpoint {
    pub id: String,
    pub name: String,
    pub display_name: Option<String>,
    /// PEM, leaf first.
    pub certificate_chain: String,
    /// Ids of the environment's custom domains it serves.
    pub domains: Vec<String>,
    pub app: NamedRef,
    pub ssl_cert: SslCert,
    pub created_at: String,
    pub updated_at: String,
}

/// What the certificate says.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SslCert {
    pub id: String,
    #[serde(rename = "ca_signed?")]
    pub ca_signed: bool,
    #[serde(rename = "self_signed?")]
    pub self_signed: bool,
    pub cert_domains: Vec<String>,
    pub starts_at: String,
    pub expires_at: String,
    pub issuer: String,
    pub subject: String,
}

/// `POST /apps/{app}/sni-endpoints`, `PATCH /apps/{app}/sni-endpoints/{id|name}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, Default)]
pub struct SniEndpointBody {
    pub certificate_chain: String,
    pub private_key: String,
}
