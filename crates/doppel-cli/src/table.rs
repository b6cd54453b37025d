//! Plain aligned tables and `key: value` blocks, as the Heroku CLI prints them: columns
//! two spaces apart, padded to the widest cell, no trailing blanks, no colour.

/// Rows of cells, optionally under a header line.
#[derive(Debug, Clone, Default)]
pub struct Table {
    header: Option<Vec<String>>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table whose first line names the columns, underlined.
    pub fn with_header<S: Into<String>>(header: impl IntoIterator<Item = S>) -> Table {
        Table {
            header: Some(header.into_iter().map(Into::into).collect()),
            rows: Vec::new(),
        }
    }

    /// A table without a header line.
    pub fn plain() -> Table {
        Table::default()
    }

    pub fn row<S: Into<String>>(&mut self, cells: impl IntoIterator<Item = S>) -> &mut Table {
        self.rows.push(cells.into_iter().map(Into::into).collect());
        self
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }

    /// The table as text, one line per row, each ending in a newline.
    pub fn render(&self) -> String {
        let columns = self
            .header
            .iter()
            .chain(self.rows.iter())
            .map(Vec::len)
            .max()
            .unwrap_or(0);
        let mut widths = vec![0usize; columns];
        for row in self.header.iter().chain(self.rows.iter()) {
            for (i, cell) in row.iter().enumerate() {
                widths[i] = widths[i].max(cell.chars().count());
            }
        }
        let mut out = String::new();
        if let Some(header) = &self.header {
            push_line(&mut out, header, &widths);
            let rule: Vec<String> = widths.iter().map(|w| "-".repeat(*w)).collect();
            push_line(&mut out, &rule, &widths);
        }
        for row in &self.rows {
            push_line(&mut out, row, &widths);
        }
        out
    }
}

fn push_line(out: &mut String, cells: &[String], widths: &[usize]) {
    let mut line = String::new();
    for (i, cell) in cells.iter().enumerate() {
        if i > 0 {
            line.push_str("  ");
        }
        line.push_str(cell);
        let pad = widths[i].saturating_sub(cell.chars().count());
        line.extend(std::iter::repeat_n(' ', pad));
    }
    out.push_str(line.trim_end());
    out.push('\n');
}

/// `Key: value` lines with the values aligned (`config`, `apps:info`, `releases:info`).
pub fn key_values<K: AsRef<str>, V: AsRef<str>>(pairs: &[(K, V)]) -> String {
    let width = pairs
        .iter()
        .map(|(k, _)| k.as_ref().chars().count() + 1)
        .max()
        .unwrap_or(0);
    let mut out = String::new();
    for (k, v) in pairs {
        let key = format!("{}:", k.as_ref());
        let line = format!("{key:<width$} {}", v.as_ref());
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aligns_columns_and_trims() {
        let mut t = Table::with_header(["Email", "Role"]);
        t.row(["admin@localhost", "owner"]).row(["b@x.io", ""]);
        assert_eq!(
            t.render(),
            "Email            Role\n---------------  -----\nadmin@localhost  owner\nb@x.io\n"
        );
        let mut p = Table::plain();
        p.row(["v10", "Deploy"]).row(["v9", "Set FOO config vars"]);
        assert_eq!(p.render(), "v10  Deploy\nv9   Set FOO config vars\n");
        assert!(Table::plain().render().is_empty());
    }

    #[test]
    fn key_values_align() {
        let text = key_values(&[("A", "1"), ("LONGER", "two words"), ("E", "")]);
        assert_eq!(text, "A:      1\nLONGER: two words\nE:\n");
    }
}
