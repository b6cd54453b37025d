//! Request bodies as a byte stream for git's stdin, gzip-decoded when the client says so.

use std::pin::Pin;

use async_compression::tokio::bufread::GzipDecoder;
use axum::body::Body;
use futures_util::TryStreamExt;
use http::{header, HeaderMap};
use tokio::io::AsyncRead;
use tokio_util::io::StreamReader;

/// A boxed reader over a request body.
pub(crate) type BodyReader = Pin<Box<dyn AsyncRead + Send>>;

/// The body as a reader, decoding `Content-Encoding: gzip` (and `x-gzip`).
pub(crate) fn reader(headers: &HeaderMap, body: Body) -> BodyReader {
    let stream = body
        .into_data_stream()
        .map_err(|e| std::io::Error::other(e.to_string()));
    let raw = StreamReader::new(stream);
    let gzip = headers
        .get(header::CONTENT_ENCODING)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| {
            let v = v.trim();
            v.eq_ignore_ascii_case("gzip") || v.eq_ignore_ascii_case("x-gzip")
        });
    if gzip {
        let mut dec = GzipDecoder::new(raw);
        dec.multiple_members(true);
        Box::pin(dec)
    } else {
        Box::pin(raw)
    }
}
