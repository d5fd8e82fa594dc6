//! `GET /support/hours`: the desk's published hours. No AWS client: the hours are the bundled
//! configuration, checked once here, so a bad file stops init rather than a request.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let hours = &guichet_core::calendar::hours::DeskHours::bundled()?;
    let clock = &guichet_core::common::clock::SystemClock;
    guichet_edge::http::serve(move |request| support_hours::handle(hours, clock, request)).await
}
