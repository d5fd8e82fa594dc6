//! Time and randomness, behind ports so that tests fix them.

use jiff::Timestamp;

use crate::common::reference::TicketReference;

pub trait Clock: Send + Sync {
    fn now(&self) -> Timestamp;
}

pub struct SystemClock;

impl Clock for SystemClock {
    fn now(&self) -> Timestamp {
        Timestamp::now()
    }
}

pub trait ReferenceSource: Send + Sync {
    fn next_reference(&self) -> Result<TicketReference, getrandom::Error>;
}

/// Draws references from the operating system's random source.
pub struct RandomReferences;

impl ReferenceSource for RandomReferences {
    fn next_reference(&self) -> Result<TicketReference, getrandom::Error> {
        TicketReference::generate()
    }
}
