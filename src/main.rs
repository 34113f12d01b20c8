//! The `git-patchew` binary: clap in, one library call per subcommand, exit code out.

// Our stdout and stderr are written through `stdio` (outln!, errln!): a closed pipe.
#![deny(clippy::print_stdout, clippy::print_stderr)]

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{CommandFactory, Parser, Subcommand};

use git_patchew::cmd;
use git_patchew::error::CmdError;
use git_patchew::exit;
use git_patchew::output::{printable, Output, Verbosity};
use git_patchew::repo::Repo;

#[derive(Parser)]
#[command(
    name = "git-patchew",
    bin_name = "git patchew",
    version,
    about = "Apply mailing-list patch series with pure-Rust git and test them on GitLab CI",
    after_help = cmd::help::exit_status_text(),
    after_long_help = cmd::help::long_help_text()
)]
struct Cli {
    /// Print less (no progress, no warnings)
    #[arg(short, long, global = true, conflicts_with = "verbose")]
    quiet: bool,
    /// Print more detail
    #[arg(short, long, global = true)]
    verbose: bool,
    #[command(subcommand)]
    command: Command,
}

/// One variant per subcommand; each subcommand's arguments are defined beside its
/// code, in `src/cmd/<subcommand>.rs`.
#[derive(Subcommand)]
enum Command {
    /// Apply a series as commits on its base, inject the CI include, tag it
    Apply(cmd::apply::Cli),
    /// Push tags to the ci-hub remote with git push (git runs the pre-push hook)
    Push(cmd::push::Cli),
    /// Install the pre-push hook (an existing hook is kept and run after ours)
    InstallHook(cmd::install_hook::Cli),
    /// Apply queued series from the Patchew server, push them, report (the applier service)
    Applier(cmd::applier::Cli),
    /// Delete expired series tags (patchew.tagExpiry) on the ci-hub and in the mirror
    Prune(cmd::prune::Cli),
    /// Report a testing result for a series to Patchew
    Report(cmd::report::Cli),
    /// Run a series' GitLab pipeline again: push its tag anew, testing.gitlab pending
    Retest(cmd::retest::Cli),
    /// Predict the tag pipeline of a commit on the ci-hub: jobs and verdict
    CiCheck(cmd::ci_check::Cli),
    /// Check every link: config, hook, include, Patchew, GitLab, the CI verdict
    Doctor(cmd::doctor::Cli),
    /// Print shell completions (bash also gets the snippet for git's own completion)
    Completions {
        #[arg(value_enum)]
        shell: clap_complete::Shell,
    },
    /// Print the man page (git patchew --help shows it once installed)
    Man {
        /// Write git-patchew.1 into this directory instead of printing it
        #[arg(long, value_name = "DIR")]
        output: Option<PathBuf>,
    },
    /// Entry points for hooks that git runs
    Hook {
        #[command(subcommand)]
        hook: cmd::hook::Cli,
    },
}

fn main() -> ExitCode {
    // First, while this is the only thread: see proxy_env for why the proxy
    // variables leave the environment (git's children get them back).
    git_patchew::proxy_env::capture();
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let _ = e.print();
            return ExitCode::from(if e.use_stderr() {
                exit::BAD_INPUT as u8
            } else {
                0
            });
        }
    };
    let verbosity = if cli.quiet {
        Verbosity::Quiet
    } else if cli.verbose {
        Verbosity::Verbose
    } else {
        Verbosity::Normal
    };
    let out = Output::new(verbosity);
    match run(cli.command, &out) {
        Ok(code) => code,
        Err(e) => {
            git_patchew::errln!("{}: {}", error_label(), printable(&e.to_string()));
            ExitCode::from(e.exit().code() as u8)
        }
    }
}

fn run(command: Command, out: &Output) -> Result<ExitCode, CmdError> {
    let repo = || -> Result<Repo, CmdError> {
        let cwd = std::env::current_dir().map_err(|source| CmdError::Local {
            action: "enter",
            path: ".".into(),
            source,
        })?;
        Ok(Repo::discover(&cwd)?)
    };
    let code = match command {
        Command::Completions { shell } => {
            print_completions(shell);
            exit::OK
        }
        Command::Man { output } => {
            write_man_page(output.as_deref(), out)?;
            exit::OK
        }
        Command::Apply(a) => cmd::apply::cli(&repo()?, a, out)?,
        Command::Push(p) => cmd::push::cli(&repo()?, p, out)?,
        Command::InstallHook(i) => {
            cmd::install_hook::cli(&repo()?, i, out)?;
            exit::OK
        }
        Command::Applier(a) => cmd::applier::cli(&repo()?, a, out)?,
        Command::Prune(p) => cmd::prune::cli(&repo()?, p, out)?,
        Command::Report(r) => {
            cmd::report::cli(&repo()?, r)?;
            exit::OK
        }
        Command::Retest(r) => {
            cmd::retest::cli(&repo()?, r, out)?;
            exit::OK
        }
        Command::CiCheck(a) => cmd::ci_check::run(&repo()?, &a, out)?,
        Command::Doctor(a) => cmd::doctor::run(&repo()?, &a)?,
        Command::Hook { hook } => cmd::hook::cli(&repo()?, hook)?,
    };
    Ok(ExitCode::from(code.clamp(0, 255) as u8))
}

/// "error" in red for a person at a terminal, plain for logs and under NO_COLOR.
fn error_label() -> &'static str {
    use std::io::IsTerminal;
    let colour = std::io::stderr().is_terminal()
        && std::env::var_os("NO_COLOR").is_none_or(|v| v.is_empty());
    if colour {
        "\x1b[31merror\x1b[m"
    } else {
        "error"
    }
}

fn print_completions(shell: clap_complete::Shell) {
    let mut cmd = Cli::command();
    let mut script = Vec::new();
    clap_complete::generate(shell, &mut cmd, "git-patchew", &mut script);
    if shell == clap_complete::Shell::Bash {
        script.extend_from_slice(git_completion_snippet(&cmd).as_bytes());
    }
    git_patchew::stdio::out(&script);
}

/// `_git_patchew`, which git's own bash completion calls for `git patchew <TAB>`;
/// made from the same clap definitions as everything else.
fn git_completion_snippet(cmd: &clap::Command) -> String {
    let subcommands: Vec<&clap::Command> = cmd
        .get_subcommands()
        .filter(|s| s.get_name() != "help")
        .collect();
    let names = subcommands
        .iter()
        .map(|s| s.get_name())
        .collect::<Vec<_>>()
        .join(" ");
    let arms: String = subcommands
        .iter()
        .map(|s| {
            let flags: Vec<String> = s
                .get_arguments()
                .filter_map(|a| a.get_long())
                .map(|l| format!("--{l}"))
                .collect();
            format!("\t{}) __gitcomp \"{}\" ;;\n", s.get_name(), flags.join(" "))
        })
        .collect();
    format!(
        "\n# git patchew <TAB>, through git's bash completion\n_git_patchew ()\n{{\n\tlocal subcommand=\"$(__git_find_on_cmdline \"{names}\")\"\n\tif [ -z \"$subcommand\" ]; then\n\t\t__gitcomp \"{names}\"\n\t\treturn\n\tfi\n\tcase \"$subcommand\" in\n{arms}\tesac\n}}\n"
    )
}

/// clap_mangen's page with our EXIT STATUS and CONFIGURATION sections (the main
/// page only) before VERSION, as man-pages(7) orders them.
fn render_man(cmd: clap::Command, main_page: bool) -> Vec<u8> {
    let man = clap_mangen::Man::new(cmd.clone());
    let mut roff = Vec::new();
    // Writing into a Vec cannot fail.
    let render = |roff: &mut Vec<u8>| -> std::io::Result<()> {
        man.render_title(roff)?;
        man.render_name_section(roff)?;
        man.render_synopsis_section(roff)?;
        man.render_description_section(roff)?;
        if cmd.get_arguments().any(|a| !a.is_hide_set()) {
            man.render_options_section(roff)?;
        }
        if cmd.has_subcommands() {
            man.render_subcommands_section(roff)?;
        }
        if cmd.get_after_long_help().is_some() || cmd.get_after_help().is_some() {
            if main_page {
                roff.extend_from_slice(cmd::help::roff_sections().as_bytes());
            } else {
                man.render_extra_section(roff)?;
            }
        }
        if cmd.get_version().is_some() {
            man.render_version_section(roff)?;
        }
        Ok(())
    };
    render(&mut roff).expect("writing to memory");
    roff
}

/// Without a directory, the main page on stdout; with one, `git-patchew.1` and a
/// `git-patchew-<subcommand>.1` for each subcommand, which the main page refers to.
fn write_man_page(dir: Option<&std::path::Path>, out: &Output) -> Result<(), CmdError> {
    let cmd = Cli::command();
    let Some(dir) = dir else {
        git_patchew::stdio::out(&render_man(cmd, true));
        return Ok(());
    };
    let mut pages = vec![("git-patchew".to_owned(), render_man(cmd.clone(), true))];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("git-patchew-{}", sub.get_name());
        pages.push((name.clone(), render_man(sub.clone().name(name), false)));
    }
    std::fs::create_dir_all(dir).map_err(|source| CmdError::Local {
        action: "create",
        path: dir.to_owned(),
        source,
    })?;
    for (name, roff) in pages {
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, roff).map_err(|source| CmdError::Local {
            action: "write",
            path: path.clone(),
            source,
        })?;
        out.info(&format!("wrote {}", path.display()));
    }
    Ok(())
}
