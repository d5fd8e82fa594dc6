//! `index-contacts`: gives the players' contacts written before inbound mail existed their
//! entry in the address look-up (gsi5), once per table after deploying that release (see the
//! README's "Receiving mail"). Reads `TICKETS_TABLE`; prints how many contacts it indexed. A
//! second run finds nothing to do.

use std::process::ExitCode;

use guichet_local::error_chain;

#[tokio::main]
async fn main() -> ExitCode {
    let Some(table) = std::env::var("TICKETS_TABLE")
        .ok()
        .filter(|t| !t.trim().is_empty())
    else {
        eprintln!("index-contacts: TICKETS_TABLE is not set");
        return ExitCode::FAILURE;
    };
    let sdk = guichet_aws::sdk_config().await;
    let client = aws_sdk_dynamodb::Client::new(&sdk);
    match guichet_aws::dynamo::mail::index_contacts(&client, &table).await {
        Ok(indexed) => {
            println!("indexed {indexed} contact(s) in {table}");
            ExitCode::SUCCESS
        }
        Err(error) => {
            eprintln!("index-contacts: {}", error_chain(&error));
            ExitCode::FAILURE
        }
    }
}
