//! Open-session accounting per interface, with CCF's two caps (`src/enclave/rpc_sessions.h`):
//! at or above `max_open_sessions_hard` open sessions a new connection is dropped at once; at or
//! above `max_open_sessions_soft` it is admitted as a capped session that answers one 503
//! `SessionCapExhausted` and closes. Capped sessions count as open, as in CCF, so a flood of
//! them still reaches the hard cap.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The number of open sessions on one interface.
#[derive(Debug, Default)]
pub(crate) struct SessionCounter {
    open: AtomicUsize,
}

/// What to do with a new connection.
#[derive(Debug)]
pub(crate) enum Admission {
    /// Serve it; the guard keeps it counted until dropped.
    Open(SessionGuard),
    /// Over the soft cap: answer one 503 and close; counted while it lives.
    Capped(SessionGuard),
    /// Over the hard cap: drop the connection without a word.
    Refused,
}

impl SessionCounter {
    pub(crate) fn admit(self: &Arc<Self>, soft_max: usize, hard_max: usize) -> Admission {
        // One atomic step decides and counts, so concurrent admissions never overshoot the
        // hard cap.
        let previous = self
            .open
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |open| {
                (open < hard_max).then_some(open + 1)
            });
        match previous {
            Err(_) => Admission::Refused,
            Ok(open) => {
                let guard = SessionGuard(Arc::clone(self));
                if open >= soft_max {
                    Admission::Capped(guard)
                } else {
                    Admission::Open(guard)
                }
            }
        }
    }

    pub(crate) fn open(&self) -> usize {
        self.open.load(Ordering::Acquire)
    }
}

/// Counts one session as open until dropped (when its connection task ends, however it ends).
#[derive(Debug)]
pub(crate) struct SessionGuard(Arc<SessionCounter>);

impl Drop for SessionGuard {
    fn drop(&mut self) {
        self.0.open.fetch_sub(1, Ordering::AcqRel);
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn soft_cap_then_hard_cap() {
        let counter = Arc::new(SessionCounter::default());
        let first = counter.admit(2, 3);
        let second = counter.admit(2, 3);
        let third = counter.admit(2, 3);
        let fourth = counter.admit(2, 3);
        assert!(matches!(first, Admission::Open(_)));
        assert!(matches!(second, Admission::Open(_)));
        assert!(matches!(third, Admission::Capped(_)));
        assert!(matches!(fourth, Admission::Refused));
        assert_eq!(counter.open(), 3);
    }

    #[test]
    fn closing_a_session_frees_its_place() {
        let counter = Arc::new(SessionCounter::default());
        let first = counter.admit(1, 2);
        assert!(matches!(counter.admit(1, 2), Admission::Capped(_)));
        // The capped guard was dropped at the end of that statement.
        assert_eq!(counter.open(), 1);
        drop(first);
        assert_eq!(counter.open(), 0);
        assert!(matches!(counter.admit(1, 2), Admission::Open(_)));
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        /// Whatever the order of opens and closes, the count equals the live guards and never
        /// exceeds the hard cap; a connection is capped exactly when soft <= open < hard.
        #[test]
        fn count_matches_live_sessions(soft in 0usize..5, extra in 0usize..5,
                                       steps in proptest::collection::vec(any::<bool>(), 0..64)) {
            let hard = soft + extra;
            let counter = Arc::new(SessionCounter::default());
            let mut live = Vec::new();
            for open in steps {
                if open {
                    let before = live.len();
                    match counter.admit(soft, hard) {
                        Admission::Open(guard) => { prop_assert!(before < soft); live.push(guard); }
                        Admission::Capped(guard) => {
                            prop_assert!(soft <= before && before < hard);
                            live.push(guard);
                        }
                        Admission::Refused => prop_assert!(before >= hard),
                    }
                } else {
                    live.pop();
                }
                prop_assert_eq!(counter.open(), live.len());
                prop_assert!(live.len() <= hard);
            }
        }
    }
}
