//! One log line in Heroku's format (`<time> <source>[<process>]: <text>`), rendered and
//! parsed back, and the filter of `logs --dyno/--source`: what the log hub, its disk files,
//! drains and tails share. A leaf of the log stream.

use time::OffsetDateTime;

/// Lines kept per environment for `logs --num` (Heroku keeps 1500).
pub const MAX_LINES: usize = 1500;

/// Who wrote a line: the app (`app`) or the platform (`heroku`).
pub const SOURCE_APP: &str = "app";
pub const SOURCE_HEROKU: &str = "heroku";

/// One line of an environment's log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogLine {
    pub time: OffsetDateTime,
    /// `app` or `heroku`.
    pub source: String,
    /// `web.1`, `router`, `api`, `release.4821`, `build`.
    pub process: String,
    pub text: String,
}

impl LogLine {
    /// A line stamped now.
    pub fn now(source: &str, process: &str, text: impl Into<String>) -> LogLine {
        LogLine {
            time: OffsetDateTime::now_utc(),
            source: source.to_string(),
            process: process.to_string(),
            text: text.into(),
        }
    }

    /// Heroku's form: `2026-01-01T12:00:00.123456+00:00 app[web.1]: text`.
    pub fn render(&self) -> String {
        format!(
            "{} {}[{}]: {}",
            timestamp(self.time),
            self.source,
            self.process,
            self.text
        )
    }

    /// Parses what [`LogLine::render`] wrote.
    pub fn parse(line: &str) -> Option<LogLine> {
        let (stamp, rest) = line.split_once(' ')?;
        let time =
            OffsetDateTime::parse(stamp, &time::format_description::well_known::Rfc3339).ok()?;
        let (origin, text) = rest.split_once("]: ")?;
        let (source, process) = origin.split_once('[')?;
        Some(LogLine {
            time,
            source: source.to_string(),
            process: process.to_string(),
            text: text.to_string(),
        })
    }
}

/// Microseconds and `+00:00`, as Heroku prints.
pub fn timestamp(t: OffsetDateTime) -> String {
    let t = t.to_offset(time::UtcOffset::UTC);
    format!(
        "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:06}+00:00",
        t.year(),
        u8::from(t.month()),
        t.day(),
        t.hour(),
        t.minute(),
        t.second(),
        t.microsecond()
    )
}

/// Which lines a reader wants.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Filter {
    /// A process (`web.1`) or a process type (`web`, which matches `web.1`, `web.2`…).
    pub dyno: Option<String>,
    /// `app` or `heroku`.
    pub source: Option<String>,
}

impl Filter {
    pub fn matches(&self, line: &LogLine) -> bool {
        let dyno_ok = match self.dyno.as_deref().filter(|d| !d.is_empty()) {
            None => true,
            Some(d) if d.contains('.') => line.process == d,
            Some(d) => {
                line.process == d
                    || line
                        .process
                        .split_once('.')
                        .is_some_and(|(kind, _)| kind == d)
            }
        };
        let source_ok = self
            .source
            .as_deref()
            .filter(|s| !s.is_empty())
            .is_none_or(|s| line.source == s);
        dyno_ok && source_ok
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_render_as_heroku_and_parse_back() {
        let t = OffsetDateTime::from_unix_timestamp_nanos(1_767_225_600_123_456_789)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH);
        let line = LogLine {
            time: t,
            source: "app".into(),
            process: "web.1".into(),
            text: "GET / [x]: 200".into(),
        };
        let text = line.render();
        assert_eq!(
            text,
            "2026-01-01T00:00:00.123456+00:00 app[web.1]: GET / [x]: 200"
        );
        let back = LogLine::parse(&text);
        assert_eq!(
            back.as_ref().map(|l| l.text.as_str()),
            Some("GET / [x]: 200")
        );
        assert_eq!(back.map(|l| l.process), Some("web.1".to_string()));
    }

    #[test]
    fn filters_by_process_type_process_and_source() {
        let l = |source: &str, process: &str| LogLine::now(source, process, "x");
        let web = Filter {
            dyno: Some("web".into()),
            source: None,
        };
        assert!(web.matches(&l("app", "web.1")));
        assert!(web.matches(&l("heroku", "web.2")));
        assert!(!web.matches(&l("app", "worker.1")));
        assert!(!web.matches(&l("app", "webby.1")));
        let one = Filter {
            dyno: Some("web.1".into()),
            source: Some("app".into()),
        };
        assert!(one.matches(&l("app", "web.1")));
        assert!(!one.matches(&l("heroku", "web.1")));
        assert!(!one.matches(&l("app", "web.11")));
        assert!(Filter::default().matches(&l("heroku", "router")));
    }
}
