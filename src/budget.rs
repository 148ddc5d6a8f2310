//! A limit on one piece of work, checked cooperatively: a deadline, a cancellation flag, the
//! heap bytes its thread may take ([`crate::heap`]), and (for tests) a number of checks after
//! which it trips.
//!
//! The webhook gives every review one ([`crate::webhook::server`]): the extractor checks it
//! per object and per container, the engine per rule and deployment, the mutating patch per
//! fix. Past it the work stops where it is and the caller answers for the budget, instead of a
//! detached thread running on after the API server gave up. `lint` and `fix` run unlimited:
//! [`Budget::unlimited`] costs one branch per check.

use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};
use std::sync::{Arc, OnceLock};
use std::time::{Duration, Instant};

/// The work ran out of its budget (deadline passed or cancelled) and stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded;

/// Cheap to clone: clones share their state, so [`Budget::cancel`] on one stops them all.
#[derive(Debug, Clone, Default)]
pub struct Budget {
    inner: Option<Arc<Inner>>,
}

/// What tripped a budget.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Trip {
    Deadline,
    Cancelled,
    /// The thread allocated more than the budget's memory allows.
    Memory,
    Checks,
}

const TRIPS: [Trip; 4] = [Trip::Deadline, Trip::Cancelled, Trip::Memory, Trip::Checks];

#[derive(Debug, Default)]
struct Inner {
    /// 0 until tripped (from then on every check fails), then the index in [`TRIPS`] + 1.
    tripped: AtomicU8,
    /// When it trips, and how long after the start that is (for messages).
    deadline: Option<(Instant, Duration)>,
    /// Heap bytes the work may hold on the thread that called [`Budget::start_here`].
    memory_bytes: Option<isize>,
    /// That thread's [`crate::heap::thread_live`] then; `None` before.
    memory_start: OnceLock<isize>,
    /// Checks left before it trips (tests: every check site is shown to stop the work).
    fuel: Option<AtomicU64>,
}

impl Budget {
    /// No limit: every check passes.
    pub fn unlimited() -> Budget {
        Budget { inner: None }
    }

    /// Trips `limit` after `started`, when the thread that calls [`Budget::start_here`]
    /// holds more than `memory_bytes` of heap beyond what it held then, or when cancelled.
    pub fn new(started: Instant, limit: Duration, memory_bytes: Option<u64>) -> Budget {
        Budget::from(Inner {
            deadline: Some((started + limit, limit)),
            memory_bytes: memory_bytes.map(|b| isize::try_from(b).unwrap_or(isize::MAX)),
            ..Inner::default()
        })
    }

    /// Trips at the check after `checks` passing ones: a deterministic stand-in for a
    /// deadline, so a test can trip it at every check site in turn.
    pub fn after_checks(checks: u64) -> Budget {
        Budget::from(Inner {
            fuel: Some(AtomicU64::new(checks)),
            ..Inner::default()
        })
    }

    fn from(inner: Inner) -> Budget {
        Budget {
            inner: Some(Arc::new(inner)),
        }
    }

    /// The work runs on this thread from now: its memory is counted from here.
    pub fn start_here(&self) {
        if let Some(inner) = &self.inner {
            let _ = inner.memory_start.set(crate::heap::thread_live());
        }
    }

    /// What tripped it, once it has.
    pub fn tripped_by(&self) -> Option<Trip> {
        let n = self.inner.as_ref()?.tripped.load(Ordering::Relaxed);
        TRIPS.get(usize::from(n).checked_sub(1)?).copied()
    }

    /// Stop the work at its next check (the client went away).
    pub fn cancel(&self) {
        if let Some(inner) = &self.inner {
            inner.trip(Trip::Cancelled);
        }
    }

    /// The heap bytes it allows, if it limits them.
    pub fn memory(&self) -> Option<u64> {
        let bytes = self.inner.as_ref()?.memory_bytes?;
        u64::try_from(bytes).ok()
    }

    /// The deadline's length, if it has one.
    pub fn limit(&self) -> Option<Duration> {
        self.inner.as_ref()?.deadline.map(|(_, limit)| limit)
    }

    /// `Err` once the deadline has passed, the budget was cancelled, its thread holds more
    /// than it allows or its checks are spent; from then on every check fails.
    pub fn check(&self) -> Result<(), Exceeded> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        if inner.tripped.load(Ordering::Relaxed) != 0 {
            return Err(Exceeded);
        }
        let spent = inner.fuel.as_ref().is_some_and(|fuel| {
            fuel.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_err()
        });
        let over_memory = || {
            let (Some(limit), Some(&start)) = (inner.memory_bytes, inner.memory_start.get()) else {
                return false;
            };
            crate::heap::thread_live().saturating_sub(start) > limit
        };
        let why = if spent {
            Trip::Checks
        } else if inner.deadline.is_some_and(|(d, _)| Instant::now() >= d) {
            Trip::Deadline
        } else if over_memory() {
            Trip::Memory
        } else {
            return Ok(());
        };
        inner.trip(why);
        Err(Exceeded)
    }
}

impl Inner {
    /// The first trip is the one reported.
    fn trip(&self, why: Trip) {
        let n = TRIPS
            .iter()
            .position(|&t| t == why)
            .map_or(0, |i| i as u8 + 1);
        let _ = self
            .tripped
            .compare_exchange(0, n, Ordering::Relaxed, Ordering::Relaxed);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unlimited_never_trips() {
        let b = Budget::unlimited();
        b.cancel();
        assert!((0..1000).all(|_| b.check().is_ok()));
        assert_eq!(b.tripped_by(), None);
    }

    #[test]
    fn checks_trip_after_the_given_number_and_stay_tripped() {
        let b = Budget::after_checks(3);
        assert_eq!(
            (0..6).map(|_| b.check().is_ok()).collect::<Vec<_>>(),
            [true, true, true, false, false, false]
        );
        assert_eq!(b.tripped_by(), Some(Trip::Checks));
    }

    #[test]
    fn a_passed_deadline_trips_and_cancel_reaches_clones() {
        let past = Budget::new(Instant::now(), Duration::ZERO, None);
        assert_eq!(past.check(), Err(Exceeded));
        assert_eq!(past.limit(), Some(Duration::ZERO));
        let future = Budget::new(Instant::now(), Duration::from_secs(3600), None);
        let clone = future.clone();
        assert_eq!(clone.check(), Ok(()));
        future.cancel();
        assert_eq!(clone.check(), Err(Exceeded));
        assert_eq!(clone.tripped_by(), Some(Trip::Cancelled));
        assert_eq!(past.tripped_by(), Some(Trip::Deadline));
    }
}
