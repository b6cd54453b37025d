//! Live updates as server-sent events, which the script turns into text (never markup):
//! `line` events carry one line of output (a build, a promotion, a log), `end` says the work
//! is over, and `changed` tells a page that what it shows has changed (it reloads its main
//! part). Streams end when the browser goes away.

use axum::response::sse::{Event, KeepAlive, KeepAliveStream, Sse};
use doppel_control::outputs::OutputReader;
use futures_util::stream::{self, BoxStream, Stream, StreamExt};
use std::convert::Infallible;
use std::future::Future;
use std::time::Duration;

/// What every stream here is.
pub type Events = Sse<KeepAliveStream<BoxStream<'static, Result<Event, Infallible>>>>;

/// One line of output as an event (`\r` would end the field: dropped). Browsers ignore an
/// event without data, so an empty line travels as one space.
pub fn line(text: &str) -> Result<Event, Infallible> {
    let clean: String = text.chars().filter(|c| *c != '\r').collect();
    Ok(Event::default().event("line").data(visible(clean)))
}

/// `text`, or one space when it is empty (an event with empty data is never dispatched).
fn visible(text: String) -> String {
    if text.is_empty() {
        " ".to_string()
    } else {
        text
    }
}

/// The end of the work, with a word for how it ended.
pub fn end(how: &str) -> Result<Event, Infallible> {
    Ok(Event::default().event("end").data(how))
}

/// Wraps a stream of events with keep-alives.
pub fn sse(events: impl Stream<Item = Result<Event, Infallible>> + Send + 'static) -> Events {
    Sse::new(events.boxed()).keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
}

/// Follows a live output to its end: its lines, then `end`.
pub fn follow(reader: OutputReader) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    stream::unfold(Some(reader), |state| async move {
        let mut reader = state?;
        match reader.next_lines().await {
            Some(lines) => {
                let events: Vec<_> = lines.iter().map(|l| line(l)).collect();
                Some((events, Some(reader)))
            }
            None => Some((vec![end("done")], None)),
        }
    })
    .flat_map(stream::iter)
}

/// A finished text, line by line, then `end`.
pub fn text(text: &str) -> impl Stream<Item = Result<Event, Infallible>> + Send {
    let mut events: Vec<_> = text.lines().map(line).collect();
    events.push(end("done"));
    stream::iter(events)
}

/// Checks `fingerprint` every `every` and sends `changed` whenever it differs from the one
/// before (the first time: from `since`, what the page was rendered with); ends when it
/// returns `None` (the page's object is gone or out of reach).
pub fn changes<F, Fut>(
    every: Duration,
    since: Option<String>,
    mut fingerprint: F,
) -> impl Stream<Item = Result<Event, Infallible>> + Send
where
    F: FnMut() -> Fut + Send + 'static,
    Fut: Future<Output = Option<String>> + Send,
{
    stream::unfold(since, move |last| {
        let next = fingerprint();
        async move {
            tokio::time::sleep(every).await;
            let now = next.await?;
            let changed = last.as_ref().is_some_and(|l| *l != now);
            // The new digest as its data: an event with empty data never reaches the page.
            let event = changed.then(|| Ok(Event::default().event("changed").data(&now)));
            Some((event, Some(now)))
        }
    })
    .filter_map(|e| async move { e })
}

/// A short stable digest of a page's state, for [`changes`].
pub fn digest(text: &str) -> String {
    use std::hash::{Hash, Hasher};
    let mut h = std::collections::hash_map::DefaultHasher::new();
    text.hash(&mut h);
    format!("{:016x}", h.finish())
}

#[cfg(test)]
mod tests {
    use super::*;
    use axum::response::IntoResponse;
    use http_body_util::BodyExt;

    async fn wire(events: Vec<Result<Event, Infallible>>) -> String {
        let response = Sse::new(stream::iter(events)).into_response();
        let bytes = response.into_body().collect().await.map(|b| b.to_bytes());
        String::from_utf8_lossy(&bytes.unwrap_or_default()).into_owned()
    }

    #[tokio::test]
    async fn every_event_carries_data_so_browsers_dispatch_it() {
        let text = wire(vec![line(""), line("a\rb")]).await;
        assert_eq!(text, "event: line\ndata:  \n\nevent: line\ndata: ab\n\n");
    }

    #[tokio::test]
    async fn a_change_is_announced_with_data() {
        let mut n = 0;
        let events = changes(Duration::from_millis(1), Some("a".into()), move || {
            n += 1;
            let now = if n < 2 { "a" } else { "b" };
            async move { Some(now.to_string()) }
        });
        let first: Vec<_> = events.take(1).collect().await;
        let text = wire(first).await;
        assert_eq!(text, "event: changed\ndata: b\n\n");
    }
}
