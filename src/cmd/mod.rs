//! One module per subcommand: its command line (derived with clap: the only clap
//! outside main.rs) and a `cli` entry point that calls the library and prints.

pub mod help;
pub mod prune;
