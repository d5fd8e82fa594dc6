//! Property tests of what the router reads from its queue: whatever a message holds, the
//! handler answers, and a message that names no escalation waiting to be routed fails (SQS
//! retries it, then dead-letters it) without anything reaching a team's queue.

use guichet_core::outbox::memory::relay;
use guichet_core::tickets::memory::desk;
use guichet_edge::testing::failed_ids;
use proptest::prelude::*;

use route_escalations::handle;

#[path = "../../../../shared/core/tests/strategies/mod.rs"]
mod strategies;
use strategies::*;

proptest! {
    #![proptest_config(ProptestConfig::with_cases(CASES))]

    #[test]
    fn no_message_routes_anything_when_nothing_was_escalated(
        bodies in message_bodies(
            escalation_request().prop_map(|r| serde_json::to_value(r).expect("json")),
        ),
    ) {
        let event = serde_json::from_value(sqs_records(&bodies)).expect("an SQS event");
        let desk = desk("2026-11-26T15:00:00Z");
        let relay = relay(&desk);
        let response = block_on(handle(&desk, &relay, event));
        prop_assert_eq!(failed_ids(&response), message_ids(bodies.len()));
        prop_assert!(relay.queues.sent().is_empty());
    }
}
