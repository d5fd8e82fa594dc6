//! `POST /handoffs/chat`: a conversation the live-chat tool hands off.

use lambda_http::Error;

#[tokio::main]
async fn main() -> Result<(), Error> {
    guichet_edge::telemetry::init_json();
    let wiring = guichet_aws::wiring::Wiring::from_env().await?;
    let desk = &wiring.desk()?;
    // Read once per container: a secret changed in Secrets Manager is taken by new
    // containers (the README's rotation steps).
    let key = &wiring.chat_handoff_key().await?;
    wiring.warm(&[]).await;
    guichet_edge::http::serve(move |request| chat_handoff::handle(desk, key, request)).await
}
