//! What a backup holds, as its commands report it: `doppel-count<TAB>name<TAB>n` lines (rows
//! per table for Postgres, keys for Redis), and the comparison that makes a backup verified.

use std::collections::BTreeMap;

/// Rows (or keys) per table (or keyspace), by name.
pub type Counts = BTreeMap<String, i64>;

const PREFIX: &str = "doppel-count\t";

/// The counts among `text`'s lines; other lines are ignored.
pub fn parse(text: &str) -> Counts {
    text.lines()
        .filter_map(|line| line.strip_prefix(PREFIX))
        .filter_map(|rest| {
            let (name, n) = rest.rsplit_once('\t')?;
            Some((name.to_string(), n.trim().parse().ok()?))
        })
        .collect()
}

/// `text` without its count lines (what is left is a command's own messages).
pub fn strip(text: &str) -> String {
    text.lines()
        .filter(|l| !l.starts_with(PREFIX))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `Ok(summary)` when `restored` holds exactly what `captured` said, else what differs.
pub fn compare(captured: &Counts, restored: &Counts) -> Result<String, String> {
    let mut diffs = Vec::new();
    for (name, want) in captured {
        match restored.get(name) {
            Some(got) if got == want => {}
            Some(got) => diffs.push(format!("{name}: {want} captured, {got} restored")),
            None => diffs.push(format!("{name}: {want} captured, missing after restore")),
        }
    }
    for (name, got) in restored {
        if !captured.contains_key(name) {
            diffs.push(format!("{name}: not captured, {got} restored"));
        }
    }
    if !diffs.is_empty() {
        return Err(diffs.join("; "));
    }
    let total: i64 = restored.values().sum();
    Ok(format!(
        "restored into a scratch database: {} {}, {total} {} in all, as captured",
        restored.len(),
        if restored.len() == 1 {
            "table"
        } else {
            "tables"
        },
        if total == 1 { "row" } else { "rows" }
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_compares_and_strips() {
        let text =
            "doppel-count\tpublic.items\t1000\nNOTICE: hi\ndoppel-count\tpublic.\"a\tb\"\t2\n";
        let c = parse(text);
        assert_eq!(c.get("public.items"), Some(&1000));
        assert_eq!(c.get("public.\"a\tb\""), Some(&2));
        assert_eq!(strip(text), "NOTICE: hi");
        assert!(compare(&c, &c).is_ok_and(|s| s.contains("2 tables, 1002 rows")));
        let mut fewer = c.clone();
        fewer.insert("public.items".into(), 999);
        fewer.insert("public.extra".into(), 1);
        let err = compare(&c, &fewer).err().unwrap_or_default();
        assert!(err.contains("1000 captured, 999 restored"), "{err}");
        assert!(err.contains("public.extra: not captured"), "{err}");
        assert!(compare(&c, &Counts::new()).is_err());
    }
}
