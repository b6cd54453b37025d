//! Splits byte chunks (which need not end on line boundaries) into text lines.

/// Accumulates chunks and yields complete lines without their terminators.
#[derive(Debug, Default)]
pub struct LineSplitter {
    pending: Vec<u8>,
    after_cr: bool,
}

impl LineSplitter {
    /// Adds a chunk; returns the lines it completed (`\r\n`, `\n` and a lone `\r` end a
    /// line, so progress bars do not grow into one huge line).
    pub fn push(&mut self, chunk: &[u8]) -> Vec<String> {
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
                _ => self.pending.push(b),
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
