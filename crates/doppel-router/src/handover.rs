//! Socket hand-over for zero-downtime restarts and upgrades: the running router passes its
//! listening sockets (HTTPS, HTTP, control) to a successor process over a Unix socket
//! (`SCM_RIGHTS`), waits until the successor serves, then stops accepting and drains. The
//! sockets never close, so no connection is refused in between: both processes accept from
//! the same queues for a moment, then only the successor does.

use std::io::{IoSlice, IoSliceMut, Read, Write};
use std::mem::MaybeUninit;
use std::os::fd::{AsFd, OwnedFd};
use std::os::unix::net::UnixStream;
use std::path::Path;
use std::time::Duration;

use rustix::net::{
    recvmsg, sendmsg, RecvAncillaryBuffer, RecvAncillaryMessage, RecvFlags, SendAncillaryBuffer,
    SendAncillaryMessage, SendFlags,
};
use serde::{Deserialize, Serialize};

use crate::error::RouterError;

/// The sockets a router hands over.
#[derive(Debug)]
pub(crate) struct Sockets {
    pub https: OwnedFd,
    pub http: Option<OwnedFd>,
    pub control: OwnedFd,
}

/// Which fds follow the header, in order.
#[derive(Debug, Serialize, Deserialize)]
struct Header {
    version: u32,
    has_http: bool,
}

const PROTOCOL_VERSION: u32 = 1;
/// The successor's acknowledgement: it loaded its state and accepts.
const READY: &[u8] = b"ready\n";

fn io_err(context: &str, e: impl std::fmt::Display) -> RouterError {
    RouterError::Handover(format!("{context}: {e}"))
}

/// Predecessor side: sends `sockets` to the successor that connected on `stream`.
pub(crate) fn send(stream: &UnixStream, sockets: &Sockets) -> Result<(), RouterError> {
    let header = serde_json::to_vec(&Header {
        version: PROTOCOL_VERSION,
        has_http: sockets.http.is_some(),
    })
    .map_err(|e| io_err("encoding the hand-over header", e))?;
    let mut fds = vec![sockets.https.as_fd(), sockets.control.as_fd()];
    if let Some(http) = &sockets.http {
        fds.push(http.as_fd());
    }
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
    let mut control = SendAncillaryBuffer::new(&mut space);
    if !control.push(SendAncillaryMessage::ScmRights(&fds)) {
        return Err(RouterError::Handover(
            "too many sockets to hand over".into(),
        ));
    }
    let sent = sendmsg(
        stream,
        &[IoSlice::new(&header)],
        &mut control,
        SendFlags::empty(),
    )
    .map_err(|e| io_err("sending the listening sockets", e))?;
    if sent != header.len() {
        return Err(RouterError::Handover("short hand-over message".into()));
    }
    Ok(())
}

/// Successor side: receives the sockets from the predecessor listening on `path`.
pub(crate) fn receive(path: &Path) -> Result<(UnixStream, Sockets), RouterError> {
    let stream = UnixStream::connect(path)
        .map_err(|e| io_err(&format!("connecting to {}", path.display()), e))?;
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .map_err(|e| io_err("setting a timeout", e))?;
    let mut buf = [0u8; 512];
    let mut space = [MaybeUninit::uninit(); rustix::cmsg_space!(ScmRights(3))];
    let mut control = RecvAncillaryBuffer::new(&mut space);
    let got = recvmsg(
        &stream,
        &mut [IoSliceMut::new(&mut buf)],
        &mut control,
        RecvFlags::CMSG_CLOEXEC,
    )
    .map_err(|e| io_err("receiving the listening sockets", e))?;
    let mut fds: Vec<OwnedFd> = Vec::new();
    for message in control.drain() {
        if let RecvAncillaryMessage::ScmRights(received) = message {
            fds.extend(received);
        }
    }
    let header: Header = serde_json::from_slice(&buf[..got.bytes])
        .map_err(|e| io_err("reading the hand-over header", e))?;
    if header.version != PROTOCOL_VERSION {
        return Err(RouterError::Handover(format!(
            "the running router speaks hand-over version {}, this one {PROTOCOL_VERSION}",
            header.version
        )));
    }
    let mut fds = fds.into_iter();
    let (Some(https), Some(control)) = (fds.next(), fds.next()) else {
        return Err(RouterError::Handover(
            "sockets missing from the hand-over".into(),
        ));
    };
    let http = if header.has_http { fds.next() } else { None };
    Ok((
        stream,
        Sockets {
            https,
            http,
            control,
        },
    ))
}

/// Successor side: tells the predecessor it serves now.
pub(crate) fn ready(mut stream: &UnixStream) -> Result<(), RouterError> {
    stream
        .write_all(READY)
        .map_err(|e| io_err("acknowledging the hand-over", e))
}

/// Predecessor side: waits (up to `limit`) for the successor's acknowledgement.
pub(crate) fn wait_ready(mut stream: &UnixStream, limit: Duration) -> Result<(), RouterError> {
    stream
        .set_read_timeout(Some(limit))
        .map_err(|e| io_err("setting a timeout", e))?;
    let mut buf = [0u8; READY.len()];
    stream.read_exact(&mut buf).map_err(|e| {
        io_err(
            "the new router process did not confirm it serves (see its log)",
            e,
        )
    })?;
    if buf != READY {
        return Err(RouterError::Handover("unexpected hand-over reply".into()));
    }
    Ok(())
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;
    use std::os::unix::net::UnixListener;

    #[test]
    fn sockets_cross_to_another_holder() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("handover.sock");
        let listener = UnixListener::bind(&path).unwrap();
        let https = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let addr = https.local_addr().unwrap();
        let control = UnixListener::bind(dir.path().join("control.sock")).unwrap();
        let sender = std::thread::spawn(move || {
            let (stream, _) = listener.accept().unwrap();
            let sockets = Sockets {
                https: OwnedFd::from(https),
                http: None,
                control: OwnedFd::from(control),
            };
            send(&stream, &sockets).unwrap();
            wait_ready(&stream, Duration::from_secs(5)).unwrap();
        });
        let (stream, sockets) = receive(&path).unwrap();
        assert!(sockets.http.is_none());
        let received = std::net::TcpListener::from(sockets.https);
        assert_eq!(received.local_addr().unwrap(), addr);
        ready(&stream).unwrap();
        sender.join().unwrap();
        // The original holder is gone; the received socket still accepts.
        let client = std::thread::spawn(move || std::net::TcpStream::connect(addr).unwrap());
        received.accept().unwrap();
        client.join().unwrap();
    }
}
