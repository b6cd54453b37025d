//! Host names users give environments as custom domains: DNS names (RFC 1123 labels), with
//! a message for each thing people paste instead (a URL, a port, a path, a wildcard, an IP).

use std::fmt;

/// Longest DNS name (without the trailing dot).
pub const MAX_HOSTNAME_LEN: usize = 253;
/// Longest DNS label.
pub const MAX_LABEL_LEN: usize = 63;

/// Why a host name was refused; the message says what to send instead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HostnameError {
    #[error("A host name is required, e.g. www.example.com.")]
    Empty,
    #[error("{0:?} is a URL; send only its host name, e.g. www.example.com.")]
    Scheme(String),
    #[error("{0:?} has a path; send only the host name, e.g. www.example.com.")]
    Path(String),
    #[error("{0:?} has a port; a domain is a host name only (the router listens on the platform's ports).")]
    Port(String),
    #[error("{0:?} is a wildcard; doppel routes exact host names only, so add each name.")]
    Wildcard(String),
    #[error("{0:?} is an IP address; a domain must be a DNS name.")]
    Address(String),
    #[error("{0:?} is not a host name: labels are 1 to 63 letters, digits or dashes, not starting or ending with a dash, separated by dots (internationalized names in their xn-- form).")]
    Invalid(String),
    #[error("{0:?} has a single label; a domain needs at least two, e.g. www.example.com.")]
    SingleLabel(String),
    #[error("{0:?} is longer than 253 characters.")]
    TooLong(String),
}

/// A valid DNS host name, lowercase, without a trailing dot.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Hostname(String);

fn valid_label(label: &str) -> bool {
    !label.is_empty()
        && label.len() <= MAX_LABEL_LEN
        && !label.starts_with('-')
        && !label.ends_with('-')
        && label
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
}

impl Hostname {
    /// Checks and normalizes a host name (`WWW.Example.com.` → `www.example.com`).
    pub fn parse(input: &str) -> Result<Hostname, HostnameError> {
        let raw = input.trim();
        if raw.is_empty() {
            return Err(HostnameError::Empty);
        }
        if raw.contains("://") {
            return Err(HostnameError::Scheme(raw.to_string()));
        }
        if raw.contains('/') || raw.contains('?') || raw.contains('#') {
            return Err(HostnameError::Path(raw.to_string()));
        }
        if raw.contains('*') {
            return Err(HostnameError::Wildcard(raw.to_string()));
        }
        if raw.parse::<std::net::IpAddr>().is_ok()
            || raw
                .trim_matches(|c| c == '[' || c == ']')
                .parse::<std::net::Ipv6Addr>()
                .is_ok()
        {
            return Err(HostnameError::Address(raw.to_string()));
        }
        if raw.contains(':') {
            return Err(HostnameError::Port(raw.to_string()));
        }
        let name = raw.strip_suffix('.').unwrap_or(raw).to_ascii_lowercase();
        if name.len() > MAX_HOSTNAME_LEN {
            return Err(HostnameError::TooLong(raw.to_string()));
        }
        let labels: Vec<&str> = name.split('.').collect();
        if !labels.iter().all(|l| valid_label(l)) {
            return Err(HostnameError::Invalid(raw.to_string()));
        }
        if labels.len() < 2 {
            return Err(HostnameError::SingleLabel(raw.to_string()));
        }
        // A numeric top-level label is an IPv4 address written oddly (`10.1`), not a name.
        if labels
            .last()
            .is_some_and(|l| l.bytes().all(|b| b.is_ascii_digit()))
        {
            return Err(HostnameError::Address(raw.to_string()));
        }
        Ok(Hostname(name))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Whether this name is `domain` itself or a name under it (`a.b.localhost` under
    /// `localhost`). `domain` is compared without case or a trailing dot.
    pub fn is_within(&self, domain: &str) -> bool {
        let domain = domain.trim().trim_end_matches('.').to_ascii_lowercase();
        self.0 == domain
            || self
                .0
                .strip_suffix(domain.as_str())
                .is_some_and(|rest| rest.ends_with('.'))
    }
}

impl fmt::Display for Hostname {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalizes_case_and_the_trailing_dot() {
        assert_eq!(
            Hostname::parse(" WWW.Example.COM. ").map(|h| h.to_string()),
            Ok("www.example.com".to_string())
        );
        assert!(Hostname::parse("xn--bcher-kva.example").is_ok());
        assert!(Hostname::parse("a-b.c1.example.org").is_ok());
    }

    #[test]
    fn refuses_what_is_not_a_host_name() {
        type Check = fn(&HostnameError) -> bool;
        let cases: &[(&str, Check)] = &[
            ("", |e| matches!(e, HostnameError::Empty)),
            ("https://www.example.com", |e| {
                matches!(e, HostnameError::Scheme(_))
            }),
            ("www.example.com/shop", |e| {
                matches!(e, HostnameError::Path(_))
            }),
            ("www.example.com:8080", |e| {
                matches!(e, HostnameError::Port(_))
            }),
            ("*.example.com", |e| matches!(e, HostnameError::Wildcard(_))),
            ("10.0.0.1", |e| matches!(e, HostnameError::Address(_))),
            ("::1", |e| matches!(e, HostnameError::Address(_))),
            ("[::1]", |e| matches!(e, HostnameError::Address(_))),
            ("10.1", |e| matches!(e, HostnameError::Address(_))),
            ("example", |e| matches!(e, HostnameError::SingleLabel(_))),
            ("-a.example.com", |e| matches!(e, HostnameError::Invalid(_))),
            ("a-.example.com", |e| matches!(e, HostnameError::Invalid(_))),
            ("a..example.com", |e| matches!(e, HostnameError::Invalid(_))),
            ("a_b.example.com", |e| {
                matches!(e, HostnameError::Invalid(_))
            }),
            ("bücher.example", |e| {
                matches!(e, HostnameError::Invalid(_))
            }),
            ("a b.example.com", |e| {
                matches!(e, HostnameError::Invalid(_))
            }),
            ("user@example.com", |e| {
                matches!(e, HostnameError::Invalid(_))
            }),
        ];
        for (input, expected) in cases {
            let err = Hostname::parse(input).expect_err(input);
            assert!(expected(&err), "{input:?}: {err:?}");
        }
        let long_label = format!("{}.example.com", "a".repeat(64));
        assert!(Hostname::parse(&long_label).is_err());
        let long_name = format!("{}example.com", "abcdefghi.".repeat(25));
        assert!(matches!(
            Hostname::parse(&long_name),
            Err(HostnameError::TooLong(_))
        ));
    }

    #[test]
    fn tells_names_under_a_domain() {
        let h = |s: &str| Hostname::parse(s).expect(s);
        assert!(h("shop.localhost.").is_within("localhost"));
        assert!(h("a.b.paas.example.org").is_within("PAAS.example.org."));
        assert!(h("paas.example.org").is_within("paas.example.org"));
        assert!(!h("notpaas.example.org").is_within("paas.example.org"));
        assert!(!h("www.example.com").is_within("localhost"));
    }
}
