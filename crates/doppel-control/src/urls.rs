//! The addresses users see: the platform URL, each environment's URL and git URL.

/// Builds user-facing URLs from the domain and HTTPS port (the port is left out when 443).
#[derive(Debug, Clone)]
pub struct Urls {
    pub domain: String,
    pub https_port: u16,
}

impl Urls {
    fn port_suffix(&self) -> String {
        if self.https_port == 443 {
            String::new()
        } else {
            format!(":{}", self.https_port)
        }
    }

    /// `https://<domain>[:port]` with no trailing slash.
    pub fn platform(&self) -> String {
        format!("https://{}{}", self.domain, self.port_suffix())
    }

    /// `https://<env>.<domain>[:port]/`
    pub fn web_url(&self, env: &str) -> String {
        format!("https://{}.{}{}/", env, self.domain, self.port_suffix())
    }

    /// `https://<domain>[:port]/<env>.git`
    pub fn git_url(&self, env: &str) -> String {
        format!("{}/{}.git", self.platform(), env)
    }

    /// The web dashboard's host name: `dashboard.<domain>`.
    pub fn dashboard_host(&self) -> String {
        format!("{}.{}", doppel_types::DASHBOARD_NAME, self.domain).to_ascii_lowercase()
    }

    /// `https://dashboard.<domain>[:port]` with no trailing slash: the web dashboard.
    pub fn dashboard(&self) -> String {
        format!("https://{}{}", self.dashboard_host(), self.port_suffix())
    }

    /// The host name the router serves an environment under.
    pub fn env_host(&self, env: &str) -> String {
        format!("{}.{}", env, self.domain).to_ascii_lowercase()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_port_is_left_out() {
        let u = Urls {
            domain: "localhost".into(),
            https_port: 443,
        };
        assert_eq!(u.web_url("a-staging"), "https://a-staging.localhost/");
        let u = Urls {
            domain: "localhost".into(),
            https_port: 8443,
        };
        assert_eq!(u.git_url("a"), "https://localhost:8443/a.git");
        assert_eq!(u.dashboard(), "https://dashboard.localhost:8443");
    }
}
