//! A limit on one piece of work, checked cooperatively: a deadline, a cancellation flag, the
//! heap bytes its thread may take ([`crate::heap`]), and (for tests) a number of checks after
//! which it trips.
//!
//! The webhook gives every review one ([`crate::webhook::server`]): the extractor checks it
//! per object and per container, the engine per rule and deployment, the mutating patch per
//! fix. Past it the work stops where it is and the caller answers for the budget, instead of a
//! detached thread running on after the API server gave up. `lint` and `fix` run unlimited:
//! [`Budget::unlimited`] costs one branch per check.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicIsize, AtomicU8, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// The work ran out of its budget (deadline passed or cancelled) and stopped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exceeded;

/// Cheap to clone: clones share the flag, so [`Budget::cancel`] on one stops them all.
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

#[derive(Debug)]
struct Inner {
    /// 0 until tripped, then `Trip as u8 + 1`.
    tripped: AtomicU8,
    /// Heap bytes the work may hold on the thread that called [`Budget::start_here`].
    memory_bytes: Option<isize>,
    /// That thread's [`crate::heap::thread_live`] then; `isize::MIN` before.
    memory_start: AtomicIsize,
    /// When it trips, and how long after the start that is (for messages).
    deadline: Option<(Instant, Duration)>,
    cancelled: AtomicBool,
    /// Checks left before it trips (tests: every check site is shown to stop the work).
    fuel: Option<AtomicU64>,
}

impl Budget {
    /// No limit: every check passes.
    pub fn unlimited() -> Budget {
        Budget { inner: None }
    }

    /// Trips `limit` after `started` (or when cancelled).
    pub fn deadline(started: Instant, limit: Duration) -> Budget {
        Budget::with(Some((started + limit, limit)), None)
    }

    /// Trips at the check after `checks` passing ones: a deterministic stand-in for a
    /// deadline, so a test can trip it at every check site in turn.
    pub fn after_checks(checks: u64) -> Budget {
        Budget::with(None, Some(checks))
    }

    /// Also trips when the thread that calls [`Budget::start_here`] holds more than
    /// `bytes` of heap beyond what it held then (for a budget not yet shared).
    pub fn with_memory(self, bytes: u64) -> Budget {
        let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
        let inner = self.inner.map(|i| {
            Arc::new(Inner {
                tripped: AtomicU8::new(i.tripped.load(Ordering::Relaxed)),
                memory_bytes: Some(bytes),
                memory_start: AtomicIsize::new(isize::MIN),
                deadline: i.deadline,
                cancelled: AtomicBool::new(i.cancelled.load(Ordering::Relaxed)),
                fuel: i
                    .fuel
                    .as_ref()
                    .map(|f| AtomicU64::new(f.load(Ordering::Relaxed))),
            })
        });
        Budget { inner }
    }

    /// The work runs on this thread from now: its memory is counted from here.
    pub fn start_here(&self) {
        if let Some(inner) = &self.inner {
            inner
                .memory_start
                .store(crate::heap::thread_live(), Ordering::Relaxed);
        }
    }

    /// What tripped it, once it has.
    pub fn tripped_by(&self) -> Option<Trip> {
        match self.inner.as_ref()?.tripped.load(Ordering::Relaxed) {
            1 => Some(Trip::Deadline),
            2 => Some(Trip::Cancelled),
            3 => Some(Trip::Memory),
            4 => Some(Trip::Checks),
            _ => None,
        }
    }

    fn with(deadline: Option<(Instant, Duration)>, fuel: Option<u64>) -> Budget {
        Budget {
            inner: Some(Arc::new(Inner {
                tripped: AtomicU8::new(0),
                memory_bytes: None,
                memory_start: AtomicIsize::new(isize::MIN),
                deadline,
                cancelled: AtomicBool::new(false),
                fuel: fuel.map(AtomicU64::new),
            })),
        }
    }

    /// Stop the work at its next check (the client went away).
    pub fn cancel(&self) {
        if let Some(inner) = &self.inner {
            inner.trip(Trip::Cancelled);
        }
    }

    /// Time left before the deadline, if it has one.
    pub fn left(&self) -> Option<Duration> {
        let (deadline, _) = self.inner.as_ref()?.deadline?;
        Some(deadline.saturating_duration_since(Instant::now()))
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

    /// Whether it has tripped (without spending a check).
    pub fn is_exceeded(&self) -> bool {
        self.inner
            .as_ref()
            .is_some_and(|i| i.cancelled.load(Ordering::Relaxed))
    }

    /// `Err` once the deadline has passed, the budget was cancelled or its checks are spent;
    /// from then on every check fails.
    pub fn check(&self) -> Result<(), Exceeded> {
        let Some(inner) = &self.inner else {
            return Ok(());
        };
        if inner.cancelled.load(Ordering::Relaxed) {
            return Err(Exceeded);
        }
        let spent = inner.fuel.as_ref().is_some_and(|fuel| {
            fuel.fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1))
                .is_err()
        });
        if spent {
            inner.trip(Trip::Checks);
            return Err(Exceeded);
        }
        if inner.deadline.is_some_and(|(d, _)| Instant::now() >= d) {
            inner.trip(Trip::Deadline);
            return Err(Exceeded);
        }
        let start = inner.memory_start.load(Ordering::Relaxed);
        if let Some(limit) = inner.memory_bytes
            && start != isize::MIN
            && crate::heap::thread_live().saturating_sub(start) > limit
        {
            inner.trip(Trip::Memory);
            return Err(Exceeded);
        }
        Ok(())
    }
}

impl Inner {
    /// The first trip is the one reported.
    fn trip(&self, why: Trip) {
        let _ =
            self.tripped
                .compare_exchange(0, why as u8 + 1, Ordering::Relaxed, Ordering::Relaxed);
        self.cancelled.store(true, Ordering::Relaxed);
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
        assert!(!b.is_exceeded());
    }

    #[test]
    fn checks_trip_after_the_given_number_and_stay_tripped() {
        let b = Budget::after_checks(3);
        assert_eq!(
            (0..6).map(|_| b.check().is_ok()).collect::<Vec<_>>(),
            [true, true, true, false, false, false]
        );
        assert!(b.is_exceeded());
        assert_eq!(b.tripped_by(), Some(Trip::Checks));
    }

    #[test]
    fn a_passed_deadline_trips_and_cancel_reaches_clones() {
        let past = Budget::deadline(Instant::now(), Duration::ZERO);
        assert_eq!(past.check(), Err(Exceeded));
        assert_eq!(past.limit(), Some(Duration::ZERO));
        let future = Budget::deadline(Instant::now(), Duration::from_secs(3600));
        let clone = future.clone();
        assert_eq!(clone.check(), Ok(()));
        future.cancel();
        assert_eq!(clone.check(), Err(Exceeded));
        assert_eq!(clone.tripped_by(), Some(Trip::Cancelled));
        assert_eq!(past.tripped_by(), Some(Trip::Deadline));
    }
}
