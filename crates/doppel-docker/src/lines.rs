//! Splits byte chunks (which need not end on line boundaries) into text lines.

/// Accumulates chunks and yields complete lines without their terminators.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
}

impl LineSplitter {
    /// Adds a chunk; returns the lines it completed (`\r` is treated as a line end too, so
    /// progress bars do not grow into one huge line).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
        let mut out = Vec::new();
        for &b in chunk {
            if b == b'\n' || b == b'\r' {
                if b == b'\n' || !self.pending.is_empty() {
                    out.push(String::from_utf8_lossy(&self.pending).into_owned());
                }
                self.pending.clear();
            } else {
                self.pending.push(b);
            }
        }
        out
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
        assert_eq!(s.push(b"hel"), Vec::<String>::new());
        assert_eq!(s.push(b"lo\nwor"), vec!["hello".to_string()]);
        assert_eq!(
            s.push(b"ld\r\n\nx"),
            vec!["world".to_string(), String::new()]
        );
        assert_eq!(s.finish(), Some("x".to_string()));
        assert_eq!(s.finish(), None);
    }
}
