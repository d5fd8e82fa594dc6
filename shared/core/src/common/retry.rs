//! Retrying a conditional write that lost a race: one policy (how many attempts, how long to
//! wait between them) and one loop, so every use case retries the same way. Each attempt is a
//! closure that reads what it needs afresh (the item, a new reference) and says whether it is
//! done or lost the race; the caller turns running out of attempts into its own error.

use std::future::Future;
use std::time::Duration;

/// What one attempt came to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Attempt<T> {
    /// Finished, with an outcome (which may well be a refusal the caller returns).
    Done(T),
    /// Lost a race with a concurrent write: worth trying again after a pause.
    Retry,
}

/// How often and how patiently a contended write is tried again. The pause before attempt
/// `n + 1` is `base · 2ⁿ`, capped at `cap`, then drawn at random in its upper half, so writers
/// that collided once do not collide again in step.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Attempts in all, the first one included (at least one is always made).
    pub attempts: u32,
    pub base: Duration,
    pub cap: Duration,
}

impl RetryPolicy {
    /// Writes that race with another request on the same item (a duplicate delivery, an agent's
    /// update): they settle within a few attempts, and the whole wait stays well under a
    /// second, far inside a Lambda's time-out.
    pub const CONTENDED_WRITE: RetryPolicy = RetryPolicy {
        attempts: 4,
        base: Duration::from_millis(10),
        cap: Duration::from_millis(160),
    };

    /// The same policy with another number of attempts.
    pub const fn with_attempts(self, attempts: u32) -> RetryPolicy {
        RetryPolicy { attempts, ..self }
    }

    /// The longest pause after the failed attempt `attempt` (0 for the first one).
    pub fn ceiling(&self, attempt: u32) -> Duration {
        let factor = 1u32.checked_shl(attempt.min(31)).unwrap_or(u32::MAX);
        self.base.saturating_mul(factor).min(self.cap)
    }

    /// The pause after the failed attempt `attempt`, `random` choosing where in the upper half
    /// of the ceiling it falls.
    pub fn delay(&self, attempt: u32, random: u64) -> Duration {
        let ceiling = self.ceiling(attempt);
        let half = ceiling / 2;
        let spread = u64::try_from((ceiling - half).as_micros()).unwrap_or(u64::MAX);
        half + Duration::from_micros(random % spread.saturating_add(1))
    }

    /// Runs `attempt` (given its number, from 0) until it is done or the attempts run out,
    /// pausing between attempts. `Ok(None)` means every attempt lost its race; an error ends
    /// the loop at once.
    pub async fn run<T, E, F, Fut>(&self, mut attempt: F) -> Result<Option<T>, E>
    where
        F: FnMut(u32) -> Fut,
        Fut: Future<Output = Result<Attempt<T>, E>>,
    {
        for n in 0..self.attempts.max(1) {
            if n > 0 {
                tokio::time::sleep(self.delay(n - 1, jitter())).await;
            }
            if let Attempt::Done(done) = attempt(n).await? {
                return Ok(Some(done));
            }
        }
        Ok(None)
    }
}

/// Random bits for the jitter. Without a random source the pause is the lower bound: only the
/// spread of the retries suffers, never the write itself.
fn jitter() -> u64 {
    let mut bytes = [0u8; 8];
    match getrandom::fill(&mut bytes) {
        Ok(()) => u64::from_le_bytes(bytes),
        Err(_) => 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::cell::Cell;

    const QUICK: RetryPolicy = RetryPolicy {
        attempts: 3,
        base: Duration::from_millis(1),
        cap: Duration::from_millis(2),
    };

    #[tokio::test]
    async fn gives_up_after_the_policys_attempts() {
        let calls = Cell::new(0);
        let outcome: Result<Option<()>, ()> = QUICK
            .run(|_| async {
                calls.set(calls.get() + 1);
                Ok(Attempt::Retry)
            })
            .await;
        assert_eq!(outcome, Ok(None));
        assert_eq!(calls.get(), 3);
    }

    #[tokio::test]
    async fn stops_at_the_first_attempt_that_is_done_or_fails() {
        let seen = Cell::new(Vec::new());
        let outcome: Result<Option<u32>, ()> = QUICK
            .with_attempts(10)
            .run(|n| {
                let mut numbers = seen.take();
                numbers.push(n);
                seen.set(numbers);
                async move {
                    Ok(if n == 1 {
                        Attempt::Done(n)
                    } else {
                        Attempt::Retry
                    })
                }
            })
            .await;
        assert_eq!(outcome, Ok(Some(1)));
        assert_eq!(seen.take(), [0, 1]);
        let calls = Cell::new(0);
        let failed: Result<Option<()>, &str> = QUICK
            .run(|_| async {
                calls.set(calls.get() + 1);
                Err("store down")
            })
            .await;
        assert_eq!(failed, Err("store down"));
        assert_eq!(calls.get(), 1);
    }

    #[tokio::test]
    async fn at_least_one_attempt_is_made() {
        let outcome: Result<Option<u8>, ()> = QUICK
            .with_attempts(0)
            .run(|_| async { Ok(Attempt::Done(7)) })
            .await;
        assert_eq!(outcome, Ok(Some(7)));
    }

    #[test]
    fn pauses_grow_and_stay_under_the_cap() {
        let policy = RetryPolicy::CONTENDED_WRITE.with_attempts(40);
        let mut previous = Duration::ZERO;
        for attempt in 0..40 {
            let ceiling = policy.ceiling(attempt);
            assert!(ceiling >= previous, "attempt {attempt}");
            assert!(ceiling <= policy.cap, "attempt {attempt}");
            previous = ceiling;
            for random in [0, 1, 12_345, u64::MAX / 3, u64::MAX] {
                let delay = policy.delay(attempt, random);
                assert!(
                    delay >= ceiling / 2 && delay <= ceiling,
                    "{delay:?} {ceiling:?}"
                );
            }
        }
        assert_eq!(policy.ceiling(0), policy.base);
        assert_eq!(policy.ceiling(1), policy.base * 2);
        assert_eq!(policy.ceiling(39), policy.cap);
        // The jitter spreads the pauses: not every draw lands on the same instant.
        assert_ne!(policy.delay(3, 0), policy.delay(3, 1_000_000_007));
    }
}
