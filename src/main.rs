//! The `git-patchew` binary: clap in, one library call per subcommand, exit code out.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Args, CommandFactory, Parser, Subcommand};

use git_patchew::cmd::install_hook::Outcome;
use git_patchew::cmd::{self, exit, CmdError, Output, Verbosity};
use git_patchew::repo::Repo;
use git_patchew::server::Status;
use git_patchew::transport::{GitRun, Stream};

/// git's own exit code, passed through.
fn git_exit(run: &GitRun) -> ExitCode {
    ExitCode::from(run.code.unwrap_or(1).clamp(0, 255) as u8)
}

const EXIT_CODES: &str = "\
Exit codes:
  0  done
  1  a patch did not apply, or a git operation failed
  2  bad input or usage (malformed mail or diff, unsafe path, bad option)
  3  nothing to do (no patch, incomplete series, empty queue)
  4  server or network error";

#[derive(Parser)]
#[command(
    name = "git-patchew",
    bin_name = "git patchew",
    version,
    about = "Apply mailing-list patch series with pure-Rust git and test them on GitLab CI",
    after_help = EXIT_CODES
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

#[derive(Subcommand)]
enum Command {
    /// Apply a series as commits on its base, inject the CI include, tag it
    Apply(ApplyArgs),
    /// Push tags to the ci-hub remote with git push (git runs the pre-push hook)
    Push(PushArgs),
    /// Install the pre-push hook (an existing hook is kept and run after ours)
    InstallHook {
        /// Remove our hook and restore the one it replaced
        #[arg(long)]
        uninstall: bool,
    },
    /// Apply queued series from the Patchew server, push them, report (the applier service)
    Applier(ApplierArgs),
    /// Report a testing result for a series to Patchew
    Report(ReportArgs),
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
        hook: HookCommand,
    },
}

#[derive(Args)]
struct ApplierArgs {
    /// Handle at most one series, then exit (3 when the queue is empty)
    #[arg(long)]
    once: bool,
    /// Only series whose project pushes to a URL starting with this
    #[arg(long, value_name = "PREFIX")]
    target_repo: Option<String>,
    /// Seconds to wait when the queue is empty
    #[arg(long, value_name = "SECS", default_value_t = 60)]
    interval: u64,
    /// URL of the hosted patchew-ci.yml (default: git config patchew.ciInclude)
    #[arg(long, value_name = "URL")]
    ci_include: Option<String>,
}

#[derive(Clone, Copy, clap::ValueEnum)]
enum ReportStatus {
    Success,
    Failure,
    Running,
    Pending,
}

#[derive(Args)]
struct ReportArgs {
    /// Message-id of the series
    msgid: String,
    #[arg(long, value_enum)]
    status: ReportStatus,
    /// Read the log from FILE ('-' for standard input)
    #[arg(long, value_name = "FILE")]
    log: Option<PathBuf>,
    /// Result name: testing.<NAME>
    #[arg(long, default_value = "gitlab")]
    name: String,
    /// Commit tested (default: the series' tag, else HEAD)
    #[arg(long, value_name = "SHA")]
    head: Option<String>,
    /// Patchew project number (default: git config patchew.projectId)
    #[arg(long, value_name = "N")]
    project_id: Option<u64>,
}

#[derive(Subcommand)]
enum HookCommand {
    /// githooks(5) pre-push: ref lines on stdin
    PrePush {
        remote_name: String,
        remote_url: String,
    },
}

#[derive(Args)]
struct PushArgs {
    /// Tags to push (patchew/<id> or refs/tags/...)
    #[arg(required = true)]
    tags: Vec<String>,
    #[command(flatten)]
    push: PushOpts,
}

#[derive(Args)]
struct PushOpts {
    /// Transmit this push option (e.g. ci.skip); may be repeated
    #[arg(short = 'o', long = "push-option", value_name = "OPTION")]
    push_options: Vec<String>,
}

#[derive(Args)]
struct ApplyArgs {
    /// Message-id of the series (<id>, id, id:..., or a Patchew/lore URL); with
    /// --mbox it picks the version of the series to apply
    #[arg(required_unless_present = "mbox")]
    msgid: Option<String>,
    /// Read the series from an mbox file ('-' for standard input)
    #[arg(long, value_name = "FILE")]
    mbox: Option<PathBuf>,
    /// Apply on this revision instead of the series' own base
    #[arg(long, value_name = "REV")]
    base: Option<String>,
    /// Do not amend .gitlab-ci.yml
    #[arg(long)]
    no_ci: bool,
    /// Do not create the patchew/<msgid> tag
    #[arg(long)]
    no_tag: bool,
    /// Replace an existing tag
    #[arg(long)]
    force: bool,
    /// Apply an incomplete series anyway
    #[arg(long)]
    allow_partial: bool,
    /// Do not add trailers collected from replies
    #[arg(long)]
    no_trailers: bool,
    /// URL of the hosted patchew-ci.yml (default: git config patchew.ciInclude)
    #[arg(long, value_name = "URL")]
    ci_include: Option<String>,
    /// Print one JSON object on stdout instead of the tip commit id
    #[arg(long)]
    json: bool,
    /// Add a Message-ID: line to each commit, like git am -m (default: git config
    /// patchew.addMessageId, else off)
    #[arg(long, overrides_with = "no_message_id")]
    message_id: bool,
    /// Do not add Message-ID: lines
    #[arg(long)]
    no_message_id: bool,
    /// Add the committer's Signed-off-by:, like git am -s
    #[arg(short = 's', long)]
    signoff: bool,
    /// When a patch does not apply, merge it in from the blobs it was made on, like
    /// git am -3 (the default)
    #[arg(short = '3', long = "3way", overrides_with = "no_three_way")]
    three_way: bool,
    /// Refuse any patch that does not apply cleanly
    #[arg(long = "no-3way")]
    no_three_way: bool,
    /// Remove everything above a scissors line (-- >8 --) from the commit message,
    /// like git am --scissors
    #[arg(long)]
    scissors: bool,
    /// What to do with body lines ending in CRLF in a base64/QP part: nowarn, warn
    /// (keep) or strip, like git am --quoted-cr (default: strip when the diff's own
    /// header lines end in CRLF, else warn)
    #[arg(long, value_name = "ACTION")]
    quoted_cr: Option<git_patchew::mailinfo::QuotedCr>,
    /// Push the tag to the ci-hub remote afterwards
    #[arg(long, conflicts_with = "no_tag")]
    push: bool,
    #[command(flatten)]
    push_opts: PushOpts,
}

fn main() -> ExitCode {
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
            eprintln!("{}: {}", error_label(), cmd::printable(&e.to_string()));
            ExitCode::from(e.exit_code() as u8)
        }
    }
}

fn run(command: Command, out: &Output) -> Result<ExitCode, CmdError> {
    match command {
        Command::Completions { shell } => {
            print_completions(shell);
            return Ok(ExitCode::SUCCESS);
        }
        Command::Man { output } => {
            write_man_page(output.as_deref(), out)?;
            return Ok(ExitCode::SUCCESS);
        }
        _ => {}
    }
    let cwd = std::env::current_dir().map_err(|e| CmdError::BadInput(e.to_string()))?;
    let repo = Repo::discover(&cwd)?;
    match command {
        Command::Completions { .. } | Command::Man { .. } => unreachable!("handled above"),
        Command::Push(p) => {
            let run =
                cmd::push::push_tags(&repo, &p.tags, &p.push.push_options, false, Stream::Inherit)?;
            Ok(git_exit(&run))
        }
        Command::InstallHook { uninstall } => {
            let outcome = if uninstall {
                cmd::install_hook::uninstall(&repo)?
            } else {
                cmd::install_hook::install(&repo)?
            };
            let dir = repo.hooks_dir();
            let hook = dir.join("pre-push");
            let chained = dir.join(cmd::hook::CHAINED);
            let message = match outcome {
                Outcome::Installed => format!("installed {}", hook.display()),
                Outcome::InstalledChaining => format!(
                    "installed {}; the previous hook, now {}, runs after it",
                    hook.display(),
                    chained.display()
                ),
                Outcome::AlreadyInstalled => format!("{} is already installed", hook.display()),
                Outcome::Uninstalled => format!("removed {}", hook.display()),
                Outcome::Restored => format!("restored the previous {}", hook.display()),
                Outcome::NotInstalled => format!("{} is not ours: left alone", hook.display()),
            };
            out.info(&message);
            Ok(ExitCode::SUCCESS)
        }
        Command::Applier(a) => {
            let args = cmd::applier::Args {
                once: a.once,
                target_repo: a.target_repo,
                interval: std::time::Duration::from_secs(a.interval),
                ci_include: a.ci_include,
            };
            let code = cmd::applier::run(&repo, &args, out)?;
            Ok(ExitCode::from(code as u8))
        }
        Command::Report(a) => {
            let log = match &a.log {
                None => String::new(),
                Some(p) if p.as_os_str() == "-" => {
                    let mut s = String::new();
                    std::io::Read::read_to_string(&mut std::io::stdin(), &mut s)
                        .map_err(|e| CmdError::BadInput(format!("cannot read the log: {e}")))?;
                    s
                }
                Some(p) => std::fs::read_to_string(p)
                    .map_err(|e| CmdError::BadInput(format!("cannot read {}: {e}", p.display())))?,
            };
            let args = cmd::report::Args {
                msgid: a.msgid,
                status: match a.status {
                    ReportStatus::Success => Status::Success,
                    ReportStatus::Failure => Status::Failure,
                    ReportStatus::Running => Status::Running,
                    ReportStatus::Pending => Status::Pending,
                },
                log,
                name: a.name,
                head: a.head,
                project_id: a.project_id,
            };
            cmd::report::run(&repo, &args)?;
            Ok(ExitCode::SUCCESS)
        }
        Command::Hook {
            hook:
                HookCommand::PrePush {
                    remote_name,
                    remote_url,
                },
        } => {
            let code = cmd::hook::pre_push(&repo, &remote_name, &remote_url)?;
            Ok(ExitCode::from(code.clamp(0, 255) as u8))
        }
        Command::Apply(a) => {
            let input = match a.mbox {
                Some(p) if p.as_os_str() == "-" => cmd::apply::Input::Stdin,
                Some(p) => cmd::apply::Input::Mbox(p),
                None => cmd::apply::Input::Fetch,
            };
            let args = cmd::apply::Args {
                input,
                msgid: a.msgid,
                options: cmd::apply::Options {
                    base: a.base,
                    no_ci: a.no_ci,
                    no_tag: a.no_tag,
                    force: a.force,
                    allow_partial: a.allow_partial,
                    trailers: !a.no_trailers,
                    ci_include: a.ci_include,
                    message_id: (a.message_id || a.no_message_id).then_some(a.message_id),
                    signoff: a.signoff,
                    three_way: a.three_way || !a.no_three_way,
                    scissors: a.scissors,
                    quoted_cr: a.quoted_cr.unwrap_or_default(),
                },
            };
            let report = cmd::apply::run(&repo, &args, &mut |line| out.progress(line))?;
            for w in &report.warnings {
                out.warn(w);
            }
            if a.json {
                println!(
                    "{}",
                    serde_json::to_string_pretty(&report).expect("report serialises")
                );
            } else {
                println!("{}", report.head);
            }
            match (a.push, &report.tag) {
                (true, Some(tag)) => {
                    let run = cmd::push::push_tags(
                        &repo,
                        std::slice::from_ref(tag),
                        &a.push_opts.push_options,
                        a.force,
                        Stream::Inherit,
                    )?;
                    Ok(git_exit(&run))
                }
                (true, None) => Err(CmdError::BadInput(
                    "nothing to push: the series was not tagged".into(),
                )),
                (false, _) => Ok(ExitCode::SUCCESS),
            }
        }
    }
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
    clap_complete::generate(shell, &mut cmd, "git-patchew", &mut std::io::stdout());
    if shell == clap_complete::Shell::Bash {
        print!("{}", git_completion_snippet(&cmd));
    }
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

fn render_man(cmd: clap::Command) -> Result<Vec<u8>, CmdError> {
    let mut roff = Vec::new();
    clap_mangen::Man::new(cmd)
        .render(&mut roff)
        .map_err(|e| CmdError::BadInput(e.to_string()))?;
    Ok(roff)
}

/// Without a directory, the main page on stdout; with one, `git-patchew.1` and a
/// `git-patchew-<subcommand>.1` for each subcommand, which the main page refers to.
fn write_man_page(dir: Option<&std::path::Path>, out: &Output) -> Result<(), CmdError> {
    let cmd = Cli::command();
    let Some(dir) = dir else {
        let roff = render_man(cmd)?;
        return std::io::Write::write_all(&mut std::io::stdout(), &roff)
            .map_err(|e| CmdError::BadInput(e.to_string()));
    };
    let mut pages = vec![("git-patchew".to_owned(), render_man(cmd.clone())?)];
    for sub in cmd.get_subcommands().filter(|s| s.get_name() != "help") {
        let name = format!("git-patchew-{}", sub.get_name());
        pages.push((name.clone(), render_man(sub.clone().name(name))?));
    }
    std::fs::create_dir_all(dir)
        .map_err(|e| CmdError::BadInput(format!("cannot create {}: {e}", dir.display())))?;
    for (name, roff) in pages {
        let path = dir.join(format!("{name}.1"));
        std::fs::write(&path, roff)
            .map_err(|e| CmdError::BadInput(format!("cannot write {}: {e}", path.display())))?;
        out.info(&format!("wrote {}", path.display()));
    }
    Ok(())
}
