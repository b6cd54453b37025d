//! List pagination as Heroku does it: `Range: <field> [start]..[end][; max=N][; order=asc|desc]`,
//! parsed leniently (junk or an unknown field means the default order), answered with
//! `Accept-Ranges`, and `206` with `Content-Range` and `Next-Range` when more remain.

use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::Json;
use serde::Serialize;

/// Items per page when the client names none.
pub const DEFAULT_MAX: usize = 200;
/// The most items one page holds.
pub const LIMIT_MAX: usize = 1000;

/// A value a list is ordered by.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub enum SortKey {
    Num(i64),
    Text(String),
}

impl SortKey {
    fn render(&self) -> String {
        match self {
            SortKey::Num(n) => n.to_string(),
            SortKey::Text(t) => t.clone(),
        }
    }

    /// Parses a bound given for a field whose keys look like `like`.
    fn parse_like(text: &str, like: &SortKey) -> SortKey {
        match like {
            SortKey::Num(_) => text
                .parse()
                .map(SortKey::Num)
                .unwrap_or_else(|_| SortKey::Text(text.to_string())),
            SortKey::Text(_) => SortKey::Text(text.to_string()),
        }
    }
}

/// What a `Range` header asked for.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RangeSpec {
    pub field: Option<String>,
    /// Start bound, and whether it is exclusive (`]value..`).
    pub start: Option<(String, bool)>,
    pub end: Option<String>,
    pub max: Option<usize>,
    pub descending: bool,
}

impl RangeSpec {
    /// Parses a `Range` header value; anything unreadable is left at its default.
    pub fn parse(value: &str) -> RangeSpec {
        let mut spec = RangeSpec::default();
        let mut parts = value.split(';');
        let head = parts.next().unwrap_or("").trim();
        if let Some((field, bounds)) = head.split_once(char::is_whitespace) {
            spec.field = Some(field.trim().to_string()).filter(|f| !f.is_empty());
            if let Some((start, end)) = bounds.trim().split_once("..") {
                let start = start.trim();
                if let Some(excl) = start.strip_prefix(']') {
                    spec.start = Some((excl.to_string(), true)).filter(|(s, _)| !s.is_empty());
                } else if !start.is_empty() {
                    spec.start = Some((start.to_string(), false));
                }
                spec.end = Some(end.trim().to_string()).filter(|e| !e.is_empty());
            }
        } else if !head.is_empty() && !head.contains("..") {
            spec.field = Some(head.to_string());
        }
        // Options may be separated by `;` or `,` (the CLI sends `order=desc,max=1`).
        for option in parts.flat_map(|p| p.split(',')) {
            let Some((k, v)) = option.split_once('=') else {
                continue;
            };
            match k.trim() {
                "max" => spec.max = v.trim().parse().ok(),
                "order" => spec.descending = v.trim().eq_ignore_ascii_case("desc"),
                _ => {}
            }
        }
        spec
    }

    /// From the request headers (`None` when there is no Range header).
    pub fn from_headers(headers: &HeaderMap) -> RangeSpec {
        headers
            .get(header::RANGE)
            .and_then(|v| v.to_str().ok())
            .map(RangeSpec::parse)
            .unwrap_or_default()
    }
}

/// A field a list can be ordered by, and the key it sorts by.
pub type Field<T> = (&'static str, fn(&T) -> SortKey);

/// One page of a list, ready to answer.
pub struct Page<T> {
    items: Vec<T>,
    accept: String,
    content_range: Option<String>,
    next_range: Option<String>,
}

/// Orders `items` by the requested field among `fields` (the first is the default; each field
/// comes with the key it sorts by), keeps the requested window and page size.
pub fn paginate<T>(mut items: Vec<T>, spec: &RangeSpec, fields: &[Field<T>]) -> Page<T> {
    let accept = fields
        .iter()
        .map(|(f, _)| *f)
        .collect::<Vec<_>>()
        .join(", ");
    let Some(&(default_field, default_key)) = fields.first() else {
        return Page {
            items,
            accept,
            content_range: None,
            next_range: None,
        };
    };
    let (field, key) = spec
        .field
        .as_deref()
        .and_then(|f| fields.iter().find(|(name, _)| *name == f))
        .copied()
        .unwrap_or((default_field, default_key));
    items.sort_by_key(key);
    if spec.descending {
        items.reverse();
    }
    let in_window = |k: &SortKey| {
        let past_start = match &spec.start {
            Some((s, exclusive)) => {
                let s = SortKey::parse_like(s, k);
                match (spec.descending, exclusive) {
                    (false, false) => *k >= s,
                    (false, true) => *k > s,
                    (true, false) => *k <= s,
                    (true, true) => *k < s,
                }
            }
            None => true,
        };
        let before_end = match &spec.end {
            Some(e) => {
                let e = SortKey::parse_like(e, k);
                if spec.descending {
                    *k >= e
                } else {
                    *k <= e
                }
            }
            None => true,
        };
        past_start && before_end
    };
    items.retain(|i| in_window(&key(i)));
    let max = spec.max.unwrap_or(DEFAULT_MAX).clamp(1, LIMIT_MAX);
    let order = if spec.descending { "desc" } else { "asc" };
    let (mut content_range, mut next_range) = (None, None);
    if items.len() > max {
        items.truncate(max);
        if let (Some(first), Some(last)) = (items.first(), items.last()) {
            let (first, last) = (key(first).render(), key(last).render());
            content_range = Some(format!("{field} {first}..{last}; max={max}; order={order}"));
            next_range = Some(format!("{field} ]{last}..; max={max}; order={order}"));
        }
    }
    Page {
        items,
        accept,
        content_range,
        next_range,
    }
}

impl<T: Serialize> IntoResponse for Page<T> {
    fn into_response(self) -> Response {
        let status = if self.next_range.is_some() {
            StatusCode::PARTIAL_CONTENT
        } else {
            StatusCode::OK
        };
        let mut resp = (status, Json(self.items)).into_response();
        let h = resp.headers_mut();
        for (name, value) in [
            ("accept-ranges", Some(self.accept)),
            ("content-range", self.content_range),
            ("next-range", self.next_range),
        ] {
            if let Some(v) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                h.insert(name, v);
            }
        }
        resp
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn num(v: &i64) -> SortKey {
        SortKey::Num(*v)
    }

    #[test]
    fn parses_what_real_clients_send() {
        let s = RangeSpec::parse("version ..; order=desc,max=1");
        assert_eq!(s.field.as_deref(), Some("version"));
        assert!(s.descending);
        assert_eq!(s.max, Some(1));
        let s = RangeSpec::parse("id ..; ;");
        assert_eq!(s.field.as_deref(), Some("id"));
        let s = RangeSpec::parse("version ..; max=15, order=desc");
        assert_eq!((s.max, s.descending), (Some(15), true));
        let s = RangeSpec::parse("name ]abc..; max=10");
        assert_eq!(s.start, Some(("abc".to_string(), true)));
        assert_eq!(
            RangeSpec::parse("garbage ;;; =="),
            RangeSpec {
                field: Some("garbage".into()),
                ..Default::default()
            }
        );
        assert_eq!(RangeSpec::parse(""), RangeSpec::default());
    }

    #[test]
    fn pages_with_next_range() {
        let items: Vec<i64> = (1..=5).collect();
        let fields: &[Field<i64>] = &[("version", num)];
        let p = paginate(
            items.clone(),
            &RangeSpec::parse("version ..; max=2"),
            fields,
        );
        assert_eq!(p.items, vec![1, 2]);
        assert_eq!(
            p.next_range.as_deref(),
            Some("version ]2..; max=2; order=asc")
        );
        let p = paginate(
            items.clone(),
            &RangeSpec::parse("version ]2..; max=2"),
            fields,
        );
        assert_eq!(p.items, vec![3, 4]);
        let p = paginate(
            items.clone(),
            &RangeSpec::parse("version ..; order=desc,max=1"),
            fields,
        );
        assert_eq!(p.items, vec![5]);
        let p = paginate(items.clone(), &RangeSpec::parse("unknown ..; ;"), fields);
        assert_eq!(p.items, items);
        assert!(p.next_range.is_none());
        let p = paginate(items, &RangeSpec::parse("version ..; max=0"), fields);
        assert_eq!(p.items.len(), 1);
    }
}
