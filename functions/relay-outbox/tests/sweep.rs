//! The sweep over the in-memory outbox and queues.

use std::sync::atomic::Ordering;

use guichet_core::outbox::memory::relay;
use guichet_core::tickets::desk::Submitted;
use guichet_core::tickets::memory::desk;
use relay_outbox::SweepError;

#[tokio::test]
async fn what_a_failed_send_left_is_sent_by_the_next_sweep() {
    let desk = desk("2026-11-26T15:00:00Z");
    let Submitted::Created(_, outbox) = guichet_edge::testing::submitted(&desk, "player-1", serde_json::json!({"channel":"form","category":"account","subject":"Compte bloqué","description":"Je ne peux plus me connecter."}), "2026-11-26T15:00:00Z").await
    else {
        panic!("created");
    };
    assert_eq!(outbox.len(), 2, "an escalation request and a notification");
    let relay = relay(&desk);
    relay.queues.failing.store(true, Ordering::SeqCst);
    assert!(matches!(
        relay_outbox::handle(&relay).await,
        Err(SweepError::Kept { kept: 2 })
    ));
    assert_eq!(desk.store.outbox().len(), 2, "nothing lost");
    relay.queues.failing.store(false, Ordering::SeqCst);
    let relayed = relay_outbox::handle(&relay).await.expect("sent");
    assert_eq!(relayed.sent, 2);
    assert!(desk.store.outbox().is_empty());
    assert_eq!(relay.queues.sent().len(), 2);
    // Nothing left: the next sweep sends nothing.
    assert_eq!(relay_outbox::handle(&relay).await.expect("empty").sent, 0);
}
