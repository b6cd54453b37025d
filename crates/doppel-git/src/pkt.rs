//! pkt-line encoding helpers and the little request parsing doppel-git needs.

/// Largest pkt-line including its 4-byte header.
pub(crate) const MAX_PKT: usize = 65520;

/// Encodes one pkt-line (payload must be at most `MAX_PKT - 4` bytes).
pub(crate) fn pkt(payload: &[u8]) -> Vec<u8> {
    let mut out = format!("{:04x}", payload.len() + 4).into_bytes();
    out.extend_from_slice(payload);
    out
}

/// The flush packet.
pub(crate) const FLUSH: &[u8] = b"0000";

/// `pkt("# service=<service>\n")` followed by a flush, the start of a smart info/refs answer.
pub(crate) fn service_header(service: &str) -> Vec<u8> {
    let mut out = pkt(format!("# service={service}\n").as_bytes());
    out.extend_from_slice(FLUSH);
    out
}

/// Sideband packets for `band` carrying `data`, split to fit.
pub(crate) fn sideband(band: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    for chunk in data.chunks(MAX_PKT - 5) {
        let mut payload = Vec::with_capacity(chunk.len() + 1);
        payload.push(band);
        payload.extend_from_slice(chunk);
        out.extend(pkt(&payload));
    }
    out
}

/// Parses the 4-hex-digit pkt length.
pub(crate) fn parse_len(head: &[u8]) -> Option<usize> {
    let s = std::str::from_utf8(head.get(..4)?).ok()?;
    usize::from_str_radix(s, 16).ok()
}

/// What the start of a receive-pack request says about sideband support.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Peek {
    /// More bytes are needed.
    Incomplete,
    /// The first command's capabilities (or the lack of commands) are known.
    Known { sideband: bool },
}

/// Looks at the start of a receive-pack request (skipping `shallow` lines) for the first
/// command's capability list.
pub(crate) fn peek_sideband(buf: &[u8]) -> Peek {
    let mut at = 0;
    loop {
        let Some(len) = buf.get(at..at + 4).and_then(parse_len) else {
            return if buf.len() < at + 4 {
                Peek::Incomplete
            } else {
                Peek::Known { sideband: false }
            };
        };
        if len < 4 {
            return Peek::Known { sideband: false };
        }
        let Some(payload) = buf.get(at + 4..at + len) else {
            return if len > MAX_PKT {
                Peek::Known { sideband: false }
            } else {
                Peek::Incomplete
            };
        };
        if payload.starts_with(b"shallow ") {
            at += len;
            continue;
        }
        let caps = payload
            .iter()
            .position(|&b| b == 0)
            .map(|nul| &payload[nul + 1..])
            .unwrap_or(&[]);
        let sideband = caps
            .split(|b| b.is_ascii_whitespace())
            .any(|c| c == b"side-band-64k" || c == b"side-band");
        return Peek::Known { sideband };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn encodes() {
        assert_eq!(pkt(b"a\n"), b"0006a\n");
        assert_eq!(
            service_header("git-receive-pack"),
            b"001f# service=git-receive-pack\n0000".to_vec()
        );
        assert_eq!(sideband(2, b"hi"), b"0007\x02hi".to_vec());
    }

    #[test]
    fn peeks_caps() {
        let z = "0".repeat(40);
        let first =
            pkt(format!("{z} {z} refs/heads/main\0report-status side-band-64k\n").as_bytes());
        assert_eq!(peek_sideband(&first[..10]), Peek::Incomplete);
        assert_eq!(peek_sideband(&first), Peek::Known { sideband: true });
        let plain = pkt(format!("{z} {z} refs/heads/main\0report-status\n").as_bytes());
        assert_eq!(peek_sideband(&plain), Peek::Known { sideband: false });
        assert_eq!(peek_sideband(b"0000"), Peek::Known { sideband: false });
        assert_eq!(peek_sideband(b"zzzz"), Peek::Known { sideband: false });
    }
}
