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

/// One line of output as an event (`\r` would end the field: dropped).
pub fn line(text: &str) -> Result<Event, Infallible> {
    let clean: String = text.chars().filter(|c| *c != '\r').collect();
    Ok(Event::default().event("line").data(clean))
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
            let event = changed.then(|| Ok(Event::default().event("changed").data("")));
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
