//! The transactional outbox. A message another system must receive (an escalation request, a
//! player notification) is written as an item in the same DynamoDB transaction as the state
//! change that causes it, so the two happen together or not at all. A relay then sends each
//! item to its queue and deletes it only once SQS accepted it: a failed send leaves the item
//! for the next relay pass, so no message is lost, and the consumers are idempotent, so a
//! message sent twice (a crash between send and delete) changes nothing.

use jiff::Timestamp;
use serde::{Deserialize, Serialize};

vocabulary!(
    /// The queue an outbox message goes to.
    Destination {
        Escalations => "escalations",
        Notifications => "notifications",
        IncidentUpdates => "incident-updates",
        /// The owning teams' alerts of promises about to be missed, or missed
        /// (`promises::sweep`).
        TeamAlerts => "team-alerts",
    }
);

/// A random 128-bit identifier in lower-case hex: outbox items, escalations, notifications.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
pub struct MessageId(String);

impl MessageId {
    pub fn generate() -> Result<Self, getrandom::Error> {
        let mut bytes = [0u8; 16];
        getrandom::fill(&mut bytes)?;
        Ok(Self::from_bytes(bytes))
    }

    pub fn from_bytes(bytes: [u8; 16]) -> Self {
        Self(bytes.iter().map(|b| format!("{b:02x}")).collect())
    }

    pub fn parse(raw: &str) -> Option<Self> {
        (raw.len() == 32 && raw.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
            .then(|| Self(raw.to_owned()))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

validated_string!(
    MessageId,
    "an identifier is 32 lower-case hexadecimal digits"
);

impl std::fmt::Display for MessageId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

/// One message waiting to be relayed: `body` is the JSON the consumer reads, already
/// serialised so the relay never needs to know its shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxMessage {
    pub id: MessageId,
    pub destination: Destination,
    /// The ticket reference it concerns: kept for tracing and per-ticket ordering.
    pub group: String,
    pub body: String,
    pub created_at: Timestamp,
}

impl OutboxMessage {
    pub fn new<T: Serialize>(
        id: MessageId,
        destination: Destination,
        group: impl Into<String>,
        body: &T,
        created_at: Timestamp,
    ) -> Result<Self, serde_json::Error> {
        Ok(Self {
            id,
            destination,
            group: group.into(),
            body: serde_json::to_string(body)?,
            created_at,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_128_bit_hex() {
        let id = MessageId::generate().expect("random");
        assert_eq!(id.as_str().len(), 32);
        assert_eq!(MessageId::parse(id.as_str()), Some(id.clone()));
        assert_ne!(MessageId::generate().expect("random"), id);
        assert_eq!(MessageId::parse("ABCDEF"), None);
        assert_eq!(MessageId::parse(&"g".repeat(32)), None);
        let json = serde_json::to_string(&MessageId::from_bytes([0xab; 16])).expect("json");
        assert_eq!(json, format!("\"{}\"", "ab".repeat(16)));
        assert!(serde_json::from_str::<MessageId>("\"nope\"").is_err());
    }
}
