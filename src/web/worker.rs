//! The engine worker: a yew-agent reactor that owns the model and answers [`Request`]s.

use futures::{SinkExt, StreamExt};
use yew_agent::reactor::{reactor, ReactorScope};

use super::protocol::{Event, Request};

/// Answers one request; transport-free so that it can be tested directly.
pub fn handle(request: Request) -> Vec<Event> {
    match request {
        Request::Ping => vec![Event::Ready {
            version: crate::VERSION.to_string(),
        }],
    }
}

/// The reactor the page bridges to.
#[reactor(EngineWorker)]
pub async fn engine_worker(mut scope: ReactorScope<Request, Event>) {
    while let Some(request) = scope.next().await {
        for event in handle(request) {
            if scope.send(event).await.is_err() {
                return;
            }
        }
    }
}
