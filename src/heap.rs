//! Heap bytes per thread, for the webhook's memory budget: a review runs on one thread of the
//! blocking pool, so what that thread has allocated since the review began is what the
//! review holds, and [`crate::budget::Budget`] stops it when that passes its reservation.
//!
//! [`Counting`] wraps the `redline` binary's global allocator (mimalloc) with two
//! thread-local counters, kept once [`count_from_now`] is called (by `serve`): a few
//! instructions per allocation, no atomics, no locks; before that (`lint`, `fix`) one
//! relaxed load. Without it (a library user's binary) the counters stay at zero and no
//! memory limit ever trips.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, Ordering};

/// Whether the counters are kept: off for `lint` and `fix`, which have no budget (the
/// thread-local update costs them ~6% of their time).
static COUNTING: AtomicBool = AtomicBool::new(false);

/// Keep the counters from now on (a thread's count starts at what it allocates after this).
pub fn count_from_now() {
    COUNTING.store(true, Ordering::Relaxed);
}

thread_local! {
    /// Bytes allocated minus bytes freed on this thread (negative when it frees what
    /// another thread allocated).
    static LIVE: Cell<isize> = const { Cell::new(0) };
    /// The highest `LIVE` since [`reset_peak`].
    static PEAK: Cell<isize> = const { Cell::new(0) };
}

/// `A`, counting bytes per thread.
pub struct Counting<A>(pub A);

fn grow(bytes: usize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
    // `try_with`: never fails for const-initialized cells without a destructor, but an
    // allocator must not panic whatever happens.
    let _ = LIVE.try_with(|live| {
        let now = live.get().saturating_add(bytes);
        live.set(now);
        let _ = PEAK.try_with(|peak| {
            if now > peak.get() {
                peak.set(now);
            }
        });
    });
}

fn shrink(bytes: usize) {
    if !COUNTING.load(Ordering::Relaxed) {
        return;
    }
    let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
    let _ = LIVE.try_with(|live| live.set(live.get().saturating_sub(bytes)));
}

// SAFETY: every call is passed to `A` unchanged; the counters are thread-local cells that
// allocate nothing.
unsafe impl<A: GlobalAlloc> GlobalAlloc for Counting<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        let p = unsafe { self.0.alloc_zeroed(layout) };
        if !p.is_null() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { self.0.dealloc(ptr, layout) };
        shrink(layout.size());
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let p = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            shrink(layout.size());
            grow(new_size);
        }
        p
    }
}

/// This thread's allocated-minus-freed bytes (0 without [`Counting`]).
pub fn thread_live() -> isize {
    LIVE.try_with(Cell::get).unwrap_or(0)
}

/// Start measuring this thread's peak from now.
pub fn reset_peak() {
    let live = thread_live();
    let _ = PEAK.try_with(|peak| peak.set(live));
}

/// The highest [`thread_live`] since [`reset_peak`].
pub fn thread_peak() -> isize {
    PEAK.try_with(Cell::get).unwrap_or(0)
}

#[cfg(test)]
#[global_allocator]
static TEST_ALLOCATOR: Counting<std::alloc::System> = Counting(std::alloc::System);

#[cfg(test)]
mod tests {
    use super::*;
    use crate::budget::{Budget, Trip};

    #[test]
    fn a_thread_counts_what_it_holds_and_its_peak() {
        count_from_now();
        reset_peak();
        let before = thread_live();
        let block = vec![1u8; 1 << 20];
        assert!(thread_live() - before >= 1 << 20);
        drop(block);
        assert!(thread_live() - before < 1 << 20);
        assert!(thread_peak() - before >= 1 << 20);
    }

    #[test]
    fn a_memory_budget_trips_when_its_thread_holds_more() {
        count_from_now();
        let budget = Budget::new(
            std::time::Instant::now(),
            std::time::Duration::from_secs(3600),
            Some(512 * 1024),
        );
        budget.start_here();
        assert!(budget.check().is_ok());
        let block = vec![1u8; 1 << 20];
        assert!(budget.check().is_err());
        assert_eq!(budget.tripped_by(), Some(Trip::Memory));
        drop(block);
        // Tripped for good: the work has already been told to stop.
        assert!(budget.check().is_err());
    }
}
