//! Our own standard output and standard error, written as git writes them: when the
//! reader has gone (`git patchew apply --json | head -c 10`), the process ends quietly,
//! killed by SIGPIPE as `git log | head` is, so the shell sees 141 and git, running
//! us as `git patchew`, exits 141 without a word. git gets this by leaving SIGPIPE at
//! its default, and where it meets EPIPE anyway (write_or_die.c, `check_pipe`) resets
//! the signal and raises it. Rust ignores SIGPIPE, so that a write to a socket or to a
//! child's stdin (the maintainers command, `git push`) returns EPIPE instead of killing
//! us; that stays so, and only these two streams die of a closed pipe. `println!`
//! would panic instead ("failed printing to stdout"): clippy's `print_stdout` and
//! `print_stderr` lints keep it out of the crate, [`outln!`] and [`errln!`] stand in.

use std::io::Write;

/// `println!` for our stdout: a closed pipe ends the process as git does.
#[macro_export]
macro_rules! outln {
    ($($arg:tt)*) => {
        $crate::stdio::out(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

/// `eprintln!` for our stderr: a closed pipe ends the process as git does.
#[macro_export]
macro_rules! errln {
    ($($arg:tt)*) => {
        $crate::stdio::err(format!("{}\n", format_args!($($arg)*)).as_bytes())
    };
}

/// Writes all of `bytes` to stdout now. A closed pipe ends the process
/// ([`die_of_sigpipe`]); any other failure (a full disk) too, after saying so on
/// stderr with exit status 1: what we print is the result a script waits for.
pub fn out(bytes: &[u8]) {
    let mut stdout = std::io::stdout().lock();
    match stdout.write_all(bytes).and_then(|()| stdout.flush()) {
        Ok(()) => {}
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => die_of_sigpipe(),
        Err(e) => {
            err(format!("error: write failure on standard output: {e}\n").as_bytes());
            crate::repo::remove_lock_and_temporary_files();
            std::process::exit(1);
        }
    }
}

/// Writes all of `bytes` to stderr (unbuffered). A closed pipe ends the process
/// ([`die_of_sigpipe`]); any other failure is ignored, having nowhere to be told.
pub fn err(bytes: &[u8]) {
    if let Err(e) = std::io::stderr().lock().write_all(bytes) {
        if e.kind() == std::io::ErrorKind::BrokenPipe {
            die_of_sigpipe();
        }
    }
}

/// Ends the process as a write to a closed pipe ends git: gix's lock and temporary
/// files are removed (as on a second termination signal), then SIGPIPE, back at its
/// default, is raised; 141 (128 + SIGPIPE, what a shell reports) should it return.
pub fn die_of_sigpipe() -> ! {
    crate::repo::remove_lock_and_temporary_files();
    // SAFETY: signal(2) and raise(3) take plain integers and touch no memory of ours;
    // SIG_DFL is a valid disposition for SIGPIPE.
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
        libc::raise(libc::SIGPIPE);
    }
    std::process::exit(128 + libc::SIGPIPE)
}
