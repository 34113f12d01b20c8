//! Where a series' round trip goes: each phase's time, summed per name, for the
//! `-v` log line and the round-trip benchmark (tests/applier.rs,
//! `round_trip_by_phase_waits_only_for_what_is_left_of_the_settle`). Per thread,
//! like the deadline: the applier works on one thread, and nothing needs threading
//! through to the phases.

use std::cell::RefCell;
use std::time::{Duration, Instant};

thread_local! {
    static PHASES: RefCell<Vec<(&'static str, Duration)>> = const { RefCell::new(Vec::new()) };
}

/// Runs `f`, adding its time to `phase`.
pub fn timed<T>(phase: &'static str, f: impl FnOnce() -> T) -> T {
    let start = Instant::now();
    let value = f();
    add(phase, start.elapsed());
    value
}

pub fn add(phase: &'static str, took: Duration) {
    PHASES.with(|p| {
        let mut p = p.borrow_mut();
        match p.iter_mut().find(|(name, _)| *name == phase) {
            Some((_, total)) => *total += took,
            None => p.push((phase, took)),
        }
    });
}

/// The phases so far, in the order they first ran; starts again empty.
pub fn take() -> Vec<(&'static str, Duration)> {
    PHASES.with(|p| std::mem::take(&mut *p.borrow_mut()))
}

/// `claim 0.012 s, fetch 0.080 s, ...`
pub fn summary(phases: &[(&'static str, Duration)]) -> String {
    phases
        .iter()
        .map(|(name, took)| format!("{name} {:.3} s", took.as_secs_f64()))
        .collect::<Vec<_>>()
        .join(", ")
}
