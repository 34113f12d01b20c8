//! Waiting for what a test started, never for ever: every wait has a limit, and a
//! limit passed fails the test (with what the process said) instead of hanging it.

use std::io::Read;
use std::process::{Child, Output};
use std::time::{Duration, Instant};

/// Polls `ready` every 20 ms until it holds; panics with `what` after `limit`.
pub fn wait_until(what: &str, limit: Duration, mut ready: impl FnMut() -> bool) {
    let end = Instant::now() + limit;
    while !ready() {
        assert!(
            Instant::now() < end,
            "still waiting after {limit:?} for {what}"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// [`Child::wait_with_output`] within `limit`: past it the child is killed and the
/// test fails with what it printed so far. Piped stdout and stderr are read while
/// waiting, so that a full pipe cannot block the child.
pub fn output_within(mut child: Child, limit: Duration) -> Output {
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut pipe) = pipe {
                let _ = pipe.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let end = Instant::now() + limit;
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        if Instant::now() > end {
            let _ = child.kill();
            let _ = child.wait();
            let err = stderr.join().unwrap_or_default();
            panic!(
                "pid {} still ran after {limit:?}; its stderr: {}",
                child.id(),
                String::from_utf8_lossy(&err)
            );
        }
        std::thread::sleep(Duration::from_millis(20));
    };
    Output {
        status,
        stdout: stdout.join().unwrap(),
        stderr: stderr.join().unwrap(),
    }
}
