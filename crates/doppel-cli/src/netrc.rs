//! `~/.netrc`, read and edited without disturbing anyone else's entries: `doppel login`
//! writes `machine <host> login <email> password <token>` as the Heroku CLI does, and
//! `doppel logout` removes only that machine's entry. Every other byte of the file
//! (other machines, comments, `macdef` bodies, `default`) is kept as it was.
//!
//! Hand-written because the Rust netrc crates parse but do not write back a file
//! unchanged; the grammar is small (whitespace-separated tokens, `#` comments, quoted
//! tokens as curl reads them, `macdef` bodies up to an empty line).

use crate::private_file::open_private;
use std::io::Write;
use std::ops::Range;
use std::path::{Path, PathBuf};

/// One token of the file and where it sits.
#[derive(Debug, Clone)]
struct Token {
    text: String,
    span: Range<usize>,
}

/// A `machine` (or `default`) entry and the bytes it covers.
#[derive(Debug, Clone)]
struct Entry {
    /// `None` for `default`.
    machine: Option<String>,
    login: Option<String>,
    password: Option<String>,
    span: Range<usize>,
}

/// A login and password found for a machine.
#[derive(Clone, PartialEq, Eq)]
pub struct Login {
    pub login: String,
    pub password: String,
}

impl std::fmt::Debug for Login {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Login")
            .field("login", &self.login)
            .field("password", &"<redacted>")
            .finish()
    }
}

/// A netrc file's text with its entries located.
#[derive(Clone, Default)]
pub struct Netrc {
    text: String,
    entries: Vec<Entry>,
}

impl std::fmt::Debug for Netrc {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let machines: Vec<_> = self.entries.iter().map(|e| &e.machine).collect();
        f.debug_struct("Netrc")
            .field("machines", &machines)
            .finish()
    }
}

/// Splits `text` into tokens, skipping `#` comments and whitespace. A token starting with
/// `"` runs to the closing quote, with `\"`, `\\`, `\n`, `\t` escapes (as curl reads them).
fn tokenize(text: &str, from: usize) -> Option<Token> {
    let bytes = text.as_bytes();
    let mut i = from;
    loop {
        while i < bytes.len() && bytes[i].is_ascii_whitespace() {
            i += 1;
        }
        if i < bytes.len() && bytes[i] == b'#' {
            while i < bytes.len() && bytes[i] != b'\n' {
                i += 1;
            }
            continue;
        }
        break;
    }
    if i >= bytes.len() {
        return None;
    }
    let start = i;
    if bytes[i] == b'"' {
        let mut out = String::new();
        let mut chars = text[i + 1..].char_indices();
        while let Some((off, c)) = chars.next() {
            match c {
                '"' => {
                    return Some(Token {
                        text: out,
                        span: start..i + 1 + off + 1,
                    })
                }
                '\\' => match chars.next() {
                    Some((_, 'n')) => out.push('\n'),
                    Some((_, 't')) => out.push('\t'),
                    Some((_, other)) => out.push(other),
                    None => break,
                },
                c => out.push(c),
            }
        }
        // An unterminated quote runs to the end of the file.
        return Some(Token {
            text: out,
            span: start..text.len(),
        });
    }
    while i < bytes.len() && !bytes[i].is_ascii_whitespace() {
        i += 1;
    }
    Some(Token {
        text: text[start..i].to_string(),
        span: start..i,
    })
}

/// The end of a `macdef` body that starts after `from`: the first empty line, or the end.
fn macdef_end(text: &str, from: usize) -> usize {
    let line_end = text[from..].find('\n').map_or(text.len(), |n| from + n + 1);
    match text[line_end..].find("\n\n") {
        Some(n) => line_end + n + 1,
        None if text[line_end..].starts_with('\n') => line_end,
        None => text.len(),
    }
}

impl Netrc {
    /// Parses `text`; anything unexpected is kept verbatim and skipped, as curl does.
    pub fn parse(text: &str) -> Netrc {
        let mut entries: Vec<Entry> = Vec::new();
        let mut pos = 0;
        while let Some(tok) = tokenize(text, pos) {
            pos = tok.span.end;
            let value = |pos: &mut usize| {
                let v = tokenize(text, *pos);
                if let Some(v) = &v {
                    *pos = v.span.end;
                }
                v
            };
            match tok.text.as_str() {
                "machine" | "default" => {
                    let machine = if tok.text == "machine" {
                        value(&mut pos).map(|t| t.text)
                    } else {
                        None
                    };
                    entries.push(Entry {
                        machine,
                        login: None,
                        password: None,
                        span: tok.span.start..pos,
                    });
                }
                "login" | "password" | "account" => {
                    let v = value(&mut pos);
                    if let (Some(entry), Some(v)) = (entries.last_mut(), v) {
                        match tok.text.as_str() {
                            "login" => entry.login = Some(v.text),
                            "password" => entry.password = Some(v.text),
                            _ => {}
                        }
                        entry.span.end = pos;
                    }
                }
                "macdef" => {
                    let _name = value(&mut pos);
                    pos = macdef_end(text, pos);
                    if let Some(entry) = entries.last_mut() {
                        entry.span.end = pos;
                    }
                }
                _ => {}
            }
        }
        Netrc {
            text: text.to_string(),
            entries,
        }
    }

    /// The file's text as it would be written.
    pub fn text(&self) -> &str {
        &self.text
    }

    /// The login of the first `machine` entry named `machine` (`default` is not consulted:
    /// it is for other programs).
    pub fn get(&self, machine: &str) -> Option<Login> {
        let entry = self
            .entries
            .iter()
            .find(|e| e.machine.as_deref() == Some(machine))?;
        Some(Login {
            login: entry.login.clone().unwrap_or_default(),
            password: entry.password.clone()?,
        })
    }

    /// The byte range to cut to remove `entry`: from its line's start when only blanks
    /// precede it, through the end of its last line when only blanks follow.
    fn cut_range(&self, entry: &Entry) -> Range<usize> {
        let text = &self.text;
        let line_start = text[..entry.span.start].rfind('\n').map_or(0, |n| n + 1);
        let start = if text[line_start..entry.span.start].trim().is_empty() {
            line_start
        } else {
            entry.span.start
        };
        let rest = &text[entry.span.end..];
        let end = match rest.find('\n') {
            Some(n) if rest[..n].trim().is_empty() => entry.span.end + n + 1,
            None if rest.trim().is_empty() => text.len(),
            _ => entry.span.end,
        };
        start..end
    }

    /// Sets `machine`'s login and password: the first entry for it is replaced in place,
    /// others for it removed; a new entry goes before `default` (which must stay last), or
    /// at the end.
    pub fn set(&mut self, machine: &str, login: &str, password: &str) {
        let rendered = format!(
            "machine {}\n  login {}\n  password {}\n",
            quote(machine),
            quote(login),
            quote(password)
        );
        let ours: Vec<Range<usize>> = self
            .entries
            .iter()
            .filter(|e| e.machine.as_deref() == Some(machine))
            .map(|e| self.cut_range(e))
            .collect();
        let mut text = self.text.clone();
        if let Some((first, rest)) = ours.split_first() {
            for r in rest.iter().rev() {
                text.replace_range(r.clone(), "");
            }
            let needs_break = first.start > 0 && !text[..first.start].ends_with('\n');
            let body = if needs_break {
                format!("\n{rendered}")
            } else {
                rendered
            };
            text.replace_range(first.clone(), &body);
        } else if let Some(default) = self.entries.iter().find(|e| e.machine.is_none()) {
            let at = self.cut_range(default).start;
            let body = if at > 0 && !text[..at].ends_with('\n') {
                format!("\n{rendered}")
            } else {
                rendered
            };
            text.insert_str(at, &body);
        } else {
            if !text.is_empty() && !text.ends_with('\n') {
                text.push('\n');
            }
            text.push_str(&rendered);
        }
        *self = Netrc::parse(&text);
    }

    /// Removes every entry for `machine`; false when there was none.
    pub fn remove(&mut self, machine: &str) -> bool {
        let ranges: Vec<Range<usize>> = self
            .entries
            .iter()
            .filter(|e| e.machine.as_deref() == Some(machine))
            .map(|e| self.cut_range(e))
            .collect();
        if ranges.is_empty() {
            return false;
        }
        let mut text = self.text.clone();
        for r in ranges.iter().rev() {
            text.replace_range(r.clone(), "");
        }
        *self = Netrc::parse(&text);
        true
    }

    /// Reads the file at `path`; an absent file is an empty one.
    pub fn load(path: &Path) -> std::io::Result<Netrc> {
        match std::fs::read_to_string(path) {
            Ok(text) => Ok(Netrc::parse(&text)),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Netrc::default()),
            Err(e) => Err(e),
        }
    }

    /// Writes the file readable by its owner only (0600), replacing it in one step. A
    /// symbolic link (a dotfile manager's) is followed, so the link stays.
    pub fn save(&self, path: &Path) -> std::io::Result<()> {
        let target = resolve_link(path);
        let dir = target
            .parent()
            .filter(|p| !p.as_os_str().is_empty())
            .unwrap_or(Path::new("."));
        let name = target
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_else(|| ".netrc".into());
        let tmp = dir.join(format!(".{name}.doppel-tmp"));
        let _ = std::fs::remove_file(&tmp);
        let mut file = open_private(&tmp)?;
        let written = file
            .write_all(self.text.as_bytes())
            .and_then(|()| file.sync_all());
        drop(file);
        if let Err(e) = written.and_then(|()| std::fs::rename(&tmp, &target)) {
            let _ = std::fs::remove_file(&tmp);
            return Err(e);
        }
        Ok(())
    }
}

/// The file a symbolic link at `path` points to (relative targets resolved), else `path`.
fn resolve_link(path: &Path) -> PathBuf {
    match std::fs::read_link(path) {
        Ok(target) if target.is_absolute() => target,
        Ok(target) => path.parent().map_or(target.clone(), |p| p.join(&target)),
        Err(_) => path.to_path_buf(),
    }
}

/// A token as written: bare when it can be, else double-quoted with escapes.
fn quote(value: &str) -> String {
    let bare = !value.is_empty()
        && !value.starts_with('#')
        && !value
            .chars()
            .any(|c| c.is_whitespace() || c == '"' || c == '\\');
    if bare {
        return value.to_string();
    }
    let mut out = String::from("\"");
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const OTHERS: &str = "# my machines\nmachine api.heroku.com\n  login me@example.com\n  password heroku-tok\nmachine git.heroku.com login me@example.com password heroku-tok\n";

    #[test]
    fn reads_multi_and_single_line_entries() {
        let n = Netrc::parse(OTHERS);
        let l = n.get("git.heroku.com");
        assert_eq!(l.as_ref().map(|l| l.password.as_str()), Some("heroku-tok"));
        assert_eq!(l.map(|l| l.login), Some("me@example.com".to_string()));
        assert!(n.get("localhost").is_none());
        assert!(!format!("{:?}", n.get("api.heroku.com")).contains("heroku-tok"));
    }

    #[test]
    fn set_appends_and_keeps_others_verbatim() {
        let mut n = Netrc::parse(OTHERS);
        n.set("localhost", "admin@localhost", "tok1");
        assert_eq!(
            n.text(),
            format!("{OTHERS}machine localhost\n  login admin@localhost\n  password tok1\n")
        );
        n.set("localhost", "admin@localhost", "tok2");
        assert!(n.text().starts_with(OTHERS), "{}", n.text());
        assert_eq!(n.get("localhost").map(|l| l.password), Some("tok2".into()));
        assert_eq!(n.text().matches("machine localhost").count(), 1);
        assert!(n.remove("localhost"));
        assert_eq!(n.text(), OTHERS);
        assert!(!n.remove("localhost"));
    }

    #[test]
    fn replaces_in_place_and_drops_duplicates() {
        let text = "machine a login x password 1\nmachine localhost login old password old\nmachine b login y password 2\nmachine localhost login dup password dup\n";
        let mut n = Netrc::parse(text);
        n.set("localhost", "new@x", "new");
        assert_eq!(
            n.text(),
            "machine a login x password 1\nmachine localhost\n  login new@x\n  password new\nmachine b login y password 2\n"
        );
    }

    #[test]
    fn new_entries_go_before_default_and_macdefs_are_kept() {
        let text = "machine ftp.example.org login anonymous password me\nmacdef init\ncd /pub\nls\n\ndefault login anonymous password guest\n";
        let mut n = Netrc::parse(text);
        assert!(n.get("ftp.example.org").is_some());
        n.set("localhost", "a@b", "t");
        assert_eq!(
            n.text(),
            "machine ftp.example.org login anonymous password me\nmacdef init\ncd /pub\nls\n\nmachine localhost\n  login a@b\n  password t\ndefault login anonymous password guest\n"
        );
        n.remove("localhost");
        assert_eq!(n.text(), text);
        // `default` is never taken for a machine's login.
        assert!(Netrc::parse("default login a password b\n")
            .get("x")
            .is_none());
    }

    #[test]
    fn quoted_tokens_and_missing_final_newline() {
        let mut n = Netrc::parse("machine \"my host\" login \"a b\" password \"p\\\"w\"");
        assert_eq!(n.get("my host").map(|l| l.password), Some("p\"w".into()));
        n.set("localhost", "me", "with space");
        assert!(
            n.text().ends_with(
                "\"p\\\"w\"\nmachine localhost\n  login me\n  password \"with space\"\n"
            ),
            "{}",
            n.text()
        );
        assert_eq!(
            n.get("localhost").map(|l| l.password),
            Some("with space".into())
        );
    }

    #[test]
    fn comments_between_entries_stay() {
        let text =
            "machine localhost login a password b\n# keep me\nmachine other login c password d\n";
        let mut n = Netrc::parse(text);
        n.remove("localhost");
        assert_eq!(n.text(), "# keep me\nmachine other login c password d\n");
    }

    #[cfg(unix)]
    #[test]
    fn saves_private_and_follows_links() -> Result<(), Box<dyn std::error::Error>> {
        use std::os::unix::fs::PermissionsExt;
        let dir = tempfile::tempdir()?;
        let real = dir.path().join("dotfiles-netrc");
        std::fs::write(&real, OTHERS)?;
        std::fs::set_permissions(&real, std::fs::Permissions::from_mode(0o644))?;
        let link = dir.path().join(".netrc");
        std::os::unix::fs::symlink("dotfiles-netrc", &link)?;
        let mut n = Netrc::load(&link)?;
        n.set("localhost", "a", "b");
        n.save(&link)?;
        assert!(std::fs::symlink_metadata(&link)?.file_type().is_symlink());
        assert_eq!(
            std::fs::metadata(&real)?.permissions().mode() & 0o777,
            0o600
        );
        assert!(std::fs::read_to_string(&real)?.starts_with(OTHERS));
        assert!(Netrc::load(&dir.path().join("absent"))?.get("x").is_none());
        Ok(())
    }
}
