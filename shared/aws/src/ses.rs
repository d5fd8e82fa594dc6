//! The SES (API v2) adapter of [`EmailSender`]: one `SendEmail` per notification, a simple
//! plain-text message with UTF-8 subject and body (the French templates need it), sent from the
//! desk's verified identity.
//!
//! SES's error messages quote the addresses they refuse, so a failure keeps only the error
//! code (`MessageRejected`, `TooManyRequestsException`, ...) or the kind of transport failure.

use aws_sdk_sesv2::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, MessageHeader};
use aws_sdk_sesv2::Client;

use guichet_core::notifications::ports::{Email, EmailError, EmailSender};

const CHARSET: &str = "UTF-8";

#[derive(Clone)]
pub struct SesEmailSender {
    client: Client,
    /// The configuration set whose event destination reports bounces and complaints
    /// (`MAIL_CONFIGURATION_SET`); without it, SES reports them only to the identity's own
    /// notification settings.
    configuration_set: Option<String>,
}

impl SesEmailSender {
    pub fn new(client: Client) -> Self {
        Self {
            client,
            configuration_set: None,
        }
    }

    pub fn with_configuration_set(mut self, name: Option<String>) -> Self {
        self.configuration_set = name;
        self
    }
}

fn text(data: &str) -> Result<Content, EmailError> {
    Content::builder()
        .data(data)
        .charset(CHARSET)
        .build()
        // Only a missing `data` fails the build, which cannot happen here.
        .map_err(|_| EmailError::Unreachable {
            kind: "request construction",
        })
}

/// What may be logged of an SDK failure: the service's error code, or the transport's kind.
fn classify<E: ProvideErrorMetadata, R>(error: &SdkError<E, R>) -> EmailError {
    match error {
        SdkError::ServiceError(_) => EmailError::Refused {
            code: error.code().unwrap_or("unknown").to_owned(),
        },
        SdkError::TimeoutError(_) => EmailError::Unreachable { kind: "timeout" },
        SdkError::DispatchFailure(_) => EmailError::Unreachable { kind: "dispatch" },
        SdkError::ResponseError(_) => EmailError::Unreachable {
            kind: "unreadable response",
        },
        SdkError::ConstructionFailure(_) => EmailError::Unreachable {
            kind: "request construction",
        },
        _ => EmailError::Unreachable { kind: "other" },
    }
}

impl EmailSender for SesEmailSender {
    async fn send(&self, email: Email<'_>) -> Result<String, EmailError> {
        // RFC 3834: our mail is automatic, so that an auto-responder that follows the RFC
        // does not answer it.
        let auto_submitted = MessageHeader::builder()
            .name("Auto-Submitted")
            .value(email.auto_submitted)
            .build()
            .map_err(|_| EmailError::Unreachable {
                kind: "request construction",
            })?;
        let message = Message::builder()
            .subject(text(email.subject)?)
            .body(Body::builder().text(text(email.body)?).build())
            .headers(auto_submitted)
            .build();
        let output = self
            .client
            .send_email()
            .from_email_address(email.from)
            .set_reply_to_addresses(email.reply_to.map(|r| vec![r.expose().to_owned()]))
            .set_configuration_set_name(self.configuration_set.clone())
            .destination(
                Destination::builder()
                    .to_addresses(email.to.expose())
                    .build(),
            )
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| classify(&e))?;
        // SES always returns one; an empty id would still mean "sent", so it is recorded as is.
        Ok(output.message_id().unwrap_or_default().to_owned())
    }
}
