//! `GET /queues/{team}`: a team's open tickets in priority then arrival order; and
//! `GET /queues/{team}/saved-replies`: the team's saved replies.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let desk = &guichet_aws::wiring::desk_from_env().await?;
    // Bundled and checked at init: a bad edit stops the container, never an agent's request.
    let replies = &guichet_core::tickets::saved_replies::SavedReplies::bundled()?;
    guichet_edge::http::serve(move |request| team_queue::handle(desk, replies, request)).await
}
