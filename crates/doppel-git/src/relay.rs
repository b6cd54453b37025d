//! Reads git's stdout one whole pkt-line at a time, so doppel can append its own packets
//! at a packet boundary.

use bytes::Bytes;
use tokio::io::{AsyncRead, AsyncReadExt};

use crate::pkt::parse_len;

/// Splits a pkt-line stream into packets; falls back to raw chunks if the stream is not pkt-lines.
pub(crate) struct PktReader<R> {
    inner: R,
    raw: bool,
}

impl<R: AsyncRead + Unpin> PktReader<R> {
    pub(crate) fn new(inner: R) -> Self {
        PktReader { inner, raw: false }
    }

    /// The next packet (header included), or `None` at end of stream.
    pub(crate) async fn next(&mut self) -> std::io::Result<Option<Bytes>> {
        if self.raw {
            return self.next_raw(Vec::new()).await;
        }
        let mut head = [0u8; 4];
        let mut got = 0;
        while got < 4 {
            let n = self.inner.read(&mut head[got..]).await?;
            if n == 0 {
                return Ok((got > 0).then(|| Bytes::copy_from_slice(&head[..got])));
            }
            got += n;
        }
        let Some(len) = parse_len(&head) else {
            self.raw = true;
            return self.next_raw(head.to_vec()).await;
        };
        if len < 4 {
            return Ok(Some(Bytes::copy_from_slice(&head)));
        }
        let mut buf = vec![0u8; len];
        buf[..4].copy_from_slice(&head);
        let mut at = 4;
        while at < len {
            let n = self.inner.read(&mut buf[at..]).await?;
            if n == 0 {
                buf.truncate(at);
                break;
            }
            at += n;
        }
        Ok(Some(Bytes::from(buf)))
    }

    async fn next_raw(&mut self, mut prefix: Vec<u8>) -> std::io::Result<Option<Bytes>> {
        let mut buf = vec![0u8; 16 * 1024];
        let n = self.inner.read(&mut buf).await?;
        prefix.extend_from_slice(&buf[..n]);
        Ok((!prefix.is_empty()).then(|| Bytes::from(prefix)))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn splits_packets() {
        let data: &[u8] = b"0009\x02abcd0005\x010000";
        let mut r = PktReader::new(data);
        assert_eq!(r.next().await.unwrap().unwrap(), &b"0009\x02abcd"[..]);
        assert_eq!(r.next().await.unwrap().unwrap(), &b"0005\x01"[..]);
        assert_eq!(r.next().await.unwrap().unwrap(), &b"0000"[..]);
        assert!(r.next().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn raw_fallback() {
        let data: &[u8] = b"not pkt";
        let mut r = PktReader::new(data);
        assert_eq!(r.next().await.unwrap().unwrap(), &b"not pkt"[..]);
        assert!(r.next().await.unwrap().is_none());
    }
}
