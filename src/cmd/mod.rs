//! One module per subcommand: its command line (derived with clap: the only clap
//! outside main.rs) and a `cli` entry point that calls the library and prints. No
//! subcommand's module uses another's (tests/layout.rs checks): what two share is
//! here or in the library.

pub mod applier;
pub mod apply;
pub mod ci_check;
pub mod doctor;
pub mod help;
pub mod hook;
pub mod install_hook;
pub mod prune;
pub mod push;
pub mod report;
pub mod retest;

/// `-o`, shared with `apply --push`.
#[derive(Debug, clap::Args)]
pub struct PushOpts {
    /// Transmit this push option (e.g. ci.skip); may be repeated
    #[arg(short = 'o', long = "push-option", value_name = "OPTION")]
    pub push_options: Vec<String>,
}
