//! Framing between the pre-receive hook process and the doppel server over the per-push socket.
//!
//! Every frame is `kind: u8`, `len: u32` (big endian), then `len` payload bytes.
//! * hook → server, once: [`KIND_REQUEST`] with a JSON [`HookRequest`];
//! * server → hook: any number of [`KIND_OUTPUT`] (bytes for the hook's stdout), then one
//!   [`KIND_EXIT`] whose payload is the exit status as an `i32` (big endian).

use std::io::Read;

use serde::{Deserialize, Serialize};
use tokio::io::{AsyncRead, AsyncReadExt};

/// Hook → server: the push's ref lines and quarantine environment.
pub(crate) const KIND_REQUEST: u8 = b'R';
/// Server → hook: output to relay to the client.
pub(crate) const KIND_OUTPUT: u8 = b'O';
/// Server → hook: exit status, last frame.
pub(crate) const KIND_EXIT: u8 = b'X';

/// Largest frame accepted (a push with very many refs still fits).
pub(crate) const MAX_FRAME: u32 = 16 * 1024 * 1024;

/// What the hook sends.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct HookRequest {
    /// The hook's stdin: `<old> <new> <ref>` lines.
    pub stdin: String,
    /// Absolute working directory of the hook (the repository).
    pub cwd: String,
    /// Object-store variables from the hook's environment (GIT_OBJECT_DIRECTORY …).
    pub env: Vec<(String, String)>,
}

/// Encodes one frame.
pub(crate) fn encode(kind: u8, payload: &[u8]) -> Vec<u8> {
    let len = u32::try_from(payload.len()).unwrap_or(u32::MAX);
    let mut out = Vec::with_capacity(5 + payload.len());
    out.push(kind);
    out.extend_from_slice(&len.to_be_bytes());
    out.extend_from_slice(payload);
    out
}

/// Encodes an exit frame.
pub(crate) fn encode_exit(code: i32) -> Vec<u8> {
    encode(KIND_EXIT, &code.to_be_bytes())
}

fn too_large(len: u32) -> std::io::Error {
    std::io::Error::new(
        std::io::ErrorKind::InvalidData,
        format!("frame of {len} bytes exceeds limit"),
    )
}

/// Reads one frame (blocking); `Ok(None)` on a clean end of stream.
pub(crate) fn read_frame<R: Read>(r: &mut R) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head[..1]) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[1..])?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    if len > MAX_FRAME {
        return Err(too_large(len));
    }
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload)?;
    Ok(Some((head[0], payload)))
}

/// Reads one frame (async); `Ok(None)` on a clean end of stream.
pub(crate) async fn read_frame_async<R: AsyncRead + Unpin>(
    r: &mut R,
) -> std::io::Result<Option<(u8, Vec<u8>)>> {
    let mut head = [0u8; 5];
    match r.read_exact(&mut head[..1]).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    r.read_exact(&mut head[1..]).await?;
    let len = u32::from_be_bytes([head[1], head[2], head[3], head[4]]);
    if len > MAX_FRAME {
        return Err(too_large(len));
    }
    let mut payload = vec![0u8; len as usize];
    r.read_exact(&mut payload).await?;
    Ok(Some((head[0], payload)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roundtrip_sync() {
        let mut buf = encode(KIND_OUTPUT, b"hello\n");
        buf.extend(encode_exit(3));
        let mut r = &buf[..];
        assert_eq!(
            read_frame(&mut r).unwrap(),
            Some((KIND_OUTPUT, b"hello\n".to_vec()))
        );
        let (k, p) = read_frame(&mut r).unwrap().unwrap();
        assert_eq!(k, KIND_EXIT);
        assert_eq!(i32::from_be_bytes(p.try_into().unwrap()), 3);
        assert_eq!(read_frame(&mut r).unwrap(), None);
    }

    #[tokio::test]
    async fn roundtrip_async_and_limit() {
        let buf = encode(KIND_REQUEST, b"{}");
        let mut r = &buf[..];
        assert_eq!(
            read_frame_async(&mut r).await.unwrap(),
            Some((KIND_REQUEST, b"{}".to_vec()))
        );
        let mut bad = vec![KIND_OUTPUT];
        bad.extend_from_slice(&(MAX_FRAME + 1).to_be_bytes());
        assert!(read_frame(&mut &bad[..]).is_err());
    }
}
