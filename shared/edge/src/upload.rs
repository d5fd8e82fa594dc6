//! The two presigned-upload routes (a verification document, a ticket attachment) read the
//! declared file and answer the signed URL the same way; only their size limits differ.

use guichet_core::common::validation::{Fields, Rule, ValidationError};
use guichet_core::documents::ports::Presigned;
use guichet_core::documents::rules::ContentType;
use serde::Serialize;

/// The answer to an upload request: `{upload_id, method, url, headers, expires_at}`.
#[derive(Serialize)]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct UploadUrl<'a> {
    pub upload_id: &'a str,
    #[serde(flatten)]
    pub presigned: &'a Presigned,
}

/// The required `content_type` field, one of the accepted types. Media types are
/// case-insensitive; the signed header carries the canonical spelling.
pub fn content_type(fields: &Fields<'_>) -> Result<ContentType, ValidationError> {
    fields
        .choice("content_type", ContentType::NAMES, |raw| {
            ContentType::parse(&raw.trim().to_ascii_lowercase())
        })?
        .ok_or_else(|| ValidationError::new("content_type", Rule::Required))
}

/// The declared length in bytes (the `size` field): a whole number from 1 to `max`.
pub fn size(value: Option<&serde_json::Value>, max: u64) -> Result<u64, ValidationError> {
    let range = || {
        ValidationError::new(
            "size",
            Rule::Range {
                min: 1,
                max: i64::try_from(max).unwrap_or(i64::MAX),
            },
        )
    };
    match value {
        None | Some(serde_json::Value::Null) => Err(ValidationError::new("size", Rule::Required)),
        Some(serde_json::Value::Number(n)) => n
            .as_u64()
            .filter(|s| (1..=max).contains(s))
            .ok_or_else(range),
        Some(_) => Err(ValidationError::new(
            "size",
            Rule::Type {
                expected: "a whole number of bytes",
            },
        )),
    }
}
