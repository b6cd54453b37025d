//! Splits byte chunks (which need not end on line boundaries) into text lines, never holding
//! more than [`MAX_LINE_BYTES`] of an unfinished line: output without newlines cannot make
//! the server's memory grow.

use crate::DockerError;

/// Longest line of container output doppel reads (64 KiB). Longer lines fail what is being
/// read (a build), rather than growing a buffer without bound.
pub const MAX_LINE_BYTES: usize = 64 * 1024;

/// Accumulates chunks and yields complete lines without their terminators.
#[derive(Debug)]
pub struct LineSplitter {
    pending: Vec<u8>,
    after_cr: bool,
    limit: usize,
}

impl Default for LineSplitter {
    fn default() -> Self {
        LineSplitter::with_limit(MAX_LINE_BYTES)
    }
}

impl LineSplitter {
    /// A splitter that refuses lines longer than `limit` bytes.
    pub fn with_limit(limit: usize) -> LineSplitter {
        LineSplitter {
            pending: Vec::new(),
            after_cr: false,
            limit,
        }
    }

    /// Adds a chunk; returns the lines it completed (`\r\n`, `\n` and a lone `\r` end a
    /// line, so progress bars do not grow into one huge line). A line longer than the limit
    /// is [`DockerError::LineTooLong`]; what was pending is dropped.
    pub fn push(&mut self, chunk: &[u8]) -> Result<Vec<String>, DockerError> {
        let mut out = Vec::new();
        for &b in chunk {
            let after_cr = std::mem::replace(&mut self.after_cr, b == b'\r');
            match b {
                // The `\n` of a `\r\n` pair ends nothing new.
                b'\n' if after_cr => {}
                b'\n' | b'\r' => {
                    out.push(String::from_utf8_lossy(&self.pending).into_owned());
                    self.pending.clear();
                }
                _ if self.pending.len() >= self.limit => {
                    self.pending = Vec::new();
                    return Err(DockerError::LineTooLong {
                        limit: self.limit as u64,
                    });
                }
                _ => self.pending.push(b),
            }
        }
        Ok(out)
    }

    /// The unterminated rest, if any.
    pub fn finish(&mut self) -> Option<String> {
        if self.pending.is_empty() {
            None
        } else {
            let line = String::from_utf8_lossy(&self.pending).into_owned();
            self.pending.clear();
            Some(line)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn joins_partial_chunks() {
        let mut s = LineSplitter::default();
        assert_eq!(s.push(b"hel").ok(), Some(Vec::<String>::new()));
        assert_eq!(s.push(b"lo\nwor").ok(), Some(vec!["hello".to_string()]));
        assert_eq!(
            s.push(b"ld\r\n\nx").ok(),
            Some(vec!["world".to_string(), String::new()])
        );
        assert_eq!(s.finish(), Some("x".to_string()));
        assert_eq!(s.finish(), None);
    }

    #[test]
    fn refuses_a_line_past_the_limit_without_holding_it() {
        let mut s = LineSplitter::with_limit(8);
        assert_eq!(s.push(b"12345678\n").ok().map(|l| l.len()), Some(1));
        assert!(s.push(b"1234").is_ok());
        assert!(matches!(
            s.push(b"56789"),
            Err(DockerError::LineTooLong { limit: 8 })
        ));
        assert!(s.pending.capacity() <= 8);
    }
}
