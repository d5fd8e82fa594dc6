//! Property tests of what the fan-out reads from its queue: whatever a message holds, the
//! handler answers, and a page of an incident that does not exist fails (SQS retries it, then
//! dead-letters it) without telling anyone or queueing a next page.

use guichet_core::incidents::memory::MemoryIncidentStore;
use guichet_core::incidents::service::{IncidentConfig, Incidents};
use guichet_core::outbox::memory::relay;
use guichet_core::tickets::memory::desk;
use guichet_edge::testing::failed_ids;
use proptest::prelude::*;

use incident_updates::{handle, PAGE_SIZE};

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn no_page_tells_anyone_of_an_incident_that_does_not_exist(
        bodies in message_bodies(fan_out().prop_map(|p| serde_json::to_value(p).expect("json"))),
    ) {
        let desk = desk("2026-11-26T15:00:00Z");
        let (relay, incidents) = (
            relay(&desk),
            Incidents {
                store: MemoryIncidentStore::new(&desk.store),
                config: IncidentConfig {
                    threshold: 3,
                    window: jiff::SignedDuration::from_mins(60),
                },
            },
        );
        let event = serde_json::from_value(sqs_records(&bodies)).expect("an SQS event");
        let response = block_on(handle(&desk, &incidents, &relay, PAGE_SIZE, event));
        prop_assert_eq!(failed_ids(&response), message_ids(bodies.len()));
        prop_assert!(relay.queues.sent().is_empty());
    }
}
