//! `admin:certs` (admins): the certificates of the platform's own host names
//! (`GET /platform-certs`): where they come from (`--platform-certs`) and, with ACME, each
//! name's status, expiry and why an order failed; with files, the certificate's expiry.

use crate::context::Context;
use crate::error::CliError;
use crate::table::Table;
use doppel_api_types::platform_certs::PlatformCerts;

/// Arguments of `doppel admin:certs`.
#[derive(Debug, Clone, clap::Args)]
pub struct AdminCertsArgs {
    /// Print the API's JSON instead of the table
    #[arg(long)]
    pub json: bool,
}

/// What `admin:certs` prints.
pub fn render(certs: &PlatformCerts) -> String {
    let mut out = if certs.source == "acme" {
        "=== Platform names: certificates from ACME (--platform-certs acme)\n\n".to_string()
    } else if certs.source == "files" {
        "=== Platform names: the certificate in --platform-cert-file (--platform-certs files), \
         read again at least every 30 s\n\n"
            .to_string()
    } else {
        "=== Platform names: certificates from the platform CA (--platform-certs ca); clients \
         must trust <data-dir>/ca.pem. A public domain can use --platform-certs acme, or files \
         with your own certificate for the domain and its wildcard.\n\n"
            .to_string()
    };
    let mut table = Table::with_header(["Name", "Status", "Expires", "Reason"]);
    for c in &certs.certificates {
        let reason = match (&c.status_reason, &c.next_attempt_at) {
            (Some(r), Some(next)) => format!("{r} (next try {next})"),
            (Some(r), None) => r.clone(),
            (None, _) => String::new(),
        };
        table.row([
            c.hostname.clone(),
            c.status.clone(),
            c.expires_at.clone().unwrap_or_default(),
            reason,
        ]);
    }
    out.push_str(&table.render());
    out
}

pub(crate) async fn show(ctx: &mut Context, args: AdminCertsArgs) -> Result<(), CliError> {
    let client = ctx.client()?;
    let certs: PlatformCerts = client.get("/platform-certs").await?;
    if args.json {
        return ctx.print_json(&certs);
    }
    ctx.print(&render(&certs))
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use doppel_api_types::platform_certs::PlatformCert;

    fn cert(name: &str, status: &str, reason: Option<&str>) -> PlatformCert {
        PlatformCert {
            hostname: name.into(),
            status: status.into(),
            status_reason: reason.map(str::to_string),
            expires_at: (status == "cert issued").then(|| "2031-01-01T00:00:00Z".into()),
            issued_at: None,
            next_attempt_at: reason.map(|_| "2030-01-01T00:05:00Z".into()),
        }
    }

    #[test]
    fn shows_each_name_with_status_expiry_and_reason() {
        let out = render(&PlatformCerts {
            source: "acme".into(),
            certificates: vec![
                cert("example.com", "cert issued", None),
                cert("shop.example.com", "failing", Some("DNS points elsewhere")),
            ],
        });
        assert!(out.contains("from ACME"), "{out}");
        let issued = out.lines().find(|l| l.starts_with("example.com")).unwrap();
        assert!(
            issued.contains("cert issued") && issued.contains("2031-01-01"),
            "{out}"
        );
        let failing = out.lines().find(|l| l.starts_with("shop.")).unwrap();
        assert!(
            failing.contains("failing")
                && failing.contains("DNS points elsewhere (next try 2030-01-01T00:05:00Z)"),
            "{out}"
        );
        let ca = render(&PlatformCerts {
            source: "ca".into(),
            certificates: vec![cert("example.com", "platform ca", None)],
        });
        assert!(
            ca.contains("platform CA") && ca.contains("--platform-certs acme"),
            "{ca}"
        );
        let mut served = cert("web.example.com", "cert file", None);
        served.expires_at = Some("2031-02-01T00:00:00Z".into());
        let files = render(&PlatformCerts {
            source: "files".into(),
            certificates: vec![served],
        });
        assert!(files.contains("--platform-cert-file"), "{files}");
        let row = files.lines().find(|l| l.starts_with("web.")).unwrap();
        assert!(
            row.contains("cert file") && row.contains("2031-02-01"),
            "{files}"
        );
    }
}
