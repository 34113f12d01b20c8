//! When the work in hand must stop at its next safe point: a termination signal, or
//! the applier's per-series deadline. The safe points (between messages, between
//! patches, before refs are written) call [`check`]; nothing half-done is left.

/// Why the work stopped, and before what.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Stop {
    #[error("interrupted by a signal before {0}: nothing was tagged")]
    Signal(String),
    #[error("the series' deadline passed before {0}: nothing was tagged")]
    Deadline(String),
}

/// Makes SIGINT, SIGTERM, SIGHUP and SIGQUIT polite: the first one only asks the run
/// to stop at the next safe point ([`interrupted`]), so that no ref transaction is
/// cut in half and temporary files are removed as the stack unwinds; a second one
/// ends the process at once (the handler is gix's, behind `repo`).
pub fn handle_termination_signals() {
    crate::repo::install_signal_handlers();
}

/// Whether a termination signal has asked us to stop.
pub fn interrupted() -> bool {
    crate::repo::signal_received()
}

thread_local! {
    /// When the work in hand must stop at its next safe point, like a signal: the
    /// applier's per-series deadline. Beside the signal flag rather than an argument,
    /// so that the safe points need nothing threaded to them; per thread, since the
    /// work that checks it runs on the thread that set it.
    static DEADLINE: std::cell::Cell<Option<std::time::Instant>> =
        const { std::cell::Cell::new(None) };
}

/// Sets (or with `None` lifts) the deadline [`check`] enforces on this thread.
pub fn set_deadline(deadline: Option<std::time::Instant>) {
    DEADLINE.with(|d| d.set(deadline));
}

/// The deadline [`set_deadline`] set on this thread, if any: network work that has no
/// safe point of its own (the verdict's includes) ends by it too.
pub fn deadline() -> Option<std::time::Instant> {
    DEADLINE.with(|d| d.get())
}

fn deadline_passed() -> bool {
    DEADLINE
        .with(|d| d.get())
        .is_some_and(|d| std::time::Instant::now() >= d)
}

/// `Err(Signal)` once a signal has asked us to stop, `Err(Deadline)` once the
/// deadline set by [`set_deadline`] has passed; `before` says what would have come
/// next.
pub fn check(before: &str) -> Result<(), Stop> {
    if interrupted() {
        return Err(Stop::Signal(before.to_owned()));
    }
    if deadline_passed() {
        return Err(Stop::Deadline(before.to_owned()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_passed_deadline_stops_at_the_next_safe_point_until_lifted() {
        assert!(check("patch 1/2").is_ok());
        set_deadline(Some(
            std::time::Instant::now() + std::time::Duration::from_secs(3600),
        ));
        assert!(check("patch 1/2").is_ok());
        set_deadline(Some(std::time::Instant::now()));
        let stopped = check("patch 2/2");
        assert!(
            matches!(&stopped, Err(Stop::Deadline(at)) if at == "patch 2/2"),
            "{stopped:?}"
        );
        set_deadline(None);
        assert!(check("patch 2/2").is_ok());
    }
}
