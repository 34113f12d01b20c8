//! Exit codes: defined once here. `--help`, the man page and README.md's table are
//! made from [`TABLE`] (tests/cli.rs checks the README against it), and
//! [`super::CmdError::exit`] is the one place that sorts an error into a code.

/// What a run came to, as a script sees it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum Exit {
    Ok = 0,
    /// A patch did not apply, or git or the file system failed us.
    Failed = 1,
    /// The input, a flag or a config value is wrong: retrying will not help.
    BadInput = 2,
    /// Nothing to do: no patch, an incomplete or unknown series, an empty queue.
    NothingToDo = 3,
    /// The server or the network failed: retrying later may help.
    Network = 4,
}

/// Every exit code with its meaning, in order. Backquotes mark literals (README).
pub const TABLE: &[(Exit, &str)] = &[
    (Exit::Ok, "done"),
    (
        Exit::Failed,
        "a patch did not apply, or a git or file-system operation failed (nothing was tagged)",
    ),
    (
        Exit::BadInput,
        "bad input or usage: malformed mail or diff, unsafe path, bad option or config value",
    ),
    (
        Exit::NothingToDo,
        "nothing to do: no patch, incomplete series, series found nowhere, empty queue",
    ),
    (Exit::Network, "server or network error"),
];

impl Exit {
    pub const fn code(self) -> i32 {
        self as i32
    }
}

pub const OK: i32 = Exit::Ok.code();
pub const APPLY_FAILED: i32 = Exit::Failed.code();
pub const BAD_INPUT: i32 = Exit::BadInput.code();
pub const NOTHING_TO_DO: i32 = Exit::NothingToDo.code();
pub const NETWORK: i32 = Exit::Network.code();
