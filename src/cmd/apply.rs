//! `git patchew apply`: mbox or message-id in, commits + CI include + tag out.

use std::path::PathBuf;

use crate::error::CmdError;
use crate::exit;
use crate::flow::apply::{run, Args, Input, Options};
use crate::input::mailinfo::QuotedCr;
use crate::input::mbox;
use crate::output::Output;
use crate::publish::push::push_tags;
use crate::repo::Repo;
use crate::transport::Stream;

/// `git patchew apply`'s command line. Its double flags (`--3way`/`--no-3way`, ...)
/// become the single values of [`Options`], which the applier builds too.
#[derive(Debug, clap::Args)]
pub struct Cli {
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
    /// Do not add the CI include to .gitlab-ci.yml
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
    /// Also take trailers that name someone other than the reply's sender
    #[arg(long)]
    sloppy_trailers: bool,
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
    quoted_cr: Option<QuotedCr>,
    /// How the mbox quotes body lines starting with "From ", like git am
    /// --patch-format: mbox (kept as they are) or mboxrd (one '>' taken off
    /// '>From ', '>>From ', ...) (default: mbox, except that public-inbox's messages,
    /// whose From_ line is 'From mboxrd@z', are mboxrd)
    #[arg(long, value_name = "FORMAT")]
    patch_format: Option<PatchFormat>,
    /// Push the tag to the ci-hub remote afterwards
    #[arg(long, conflicts_with = "no_tag")]
    push: bool,
    #[command(flatten)]
    push_opts: super::PushOpts,
}

/// The values of `--patch-format` git am has that apply to an mbox.
#[derive(Debug, Clone, Copy, clap::ValueEnum)]
enum PatchFormat {
    Mbox,
    Mboxrd,
}

impl PatchFormat {
    fn format(self) -> mbox::Format {
        match self {
            PatchFormat::Mbox => mbox::Format::Mboxo,
            PatchFormat::Mboxrd => mbox::Format::Mboxrd,
        }
    }
}

impl Cli {
    fn into_args(self) -> Args {
        let input = match self.mbox {
            Some(p) if p.as_os_str() == "-" => Input::Stdin,
            Some(p) => Input::Mbox(p),
            None => Input::Fetch,
        };
        Args {
            input,
            msgid: self.msgid,
            options: Options {
                base: self.base,
                no_ci: self.no_ci,
                no_tag: self.no_tag,
                force: self.force,
                allow_partial: self.allow_partial,
                trailers: !self.no_trailers,
                sloppy_trailers: self.sloppy_trailers,
                ci_include: self.ci_include,
                message_id: (self.message_id || self.no_message_id).then_some(self.message_id),
                signoff: self.signoff,
                three_way: self.three_way || !self.no_three_way,
                base_choice: None,
                base_remote: None,
                push_options: self.push_opts.push_options.clone(),
                scissors: self.scissors,
                fetch_includes: false,
                patch_format: self.patch_format.map(PatchFormat::format),
                quoted_cr: self.quoted_cr.unwrap_or_default(),
            },
        }
    }
}

/// The subcommand: applies, prints the tip (or `--json`), pushes with `--push`;
/// returns the exit code (`git push`'s own after `--push`).
pub fn cli(repo: &Repo, cli: Cli, out: &Output) -> Result<i32, CmdError> {
    let (json, push, push_options) = (cli.json, cli.push, cli.push_opts.push_options.clone());
    let args = cli.into_args();
    let force = args.options.force;
    let report = run(repo, &args, &mut |line| out.progress(line))?;
    for w in &report.warnings {
        out.warn(w);
    }
    if json {
        crate::outln!(
            "{}",
            serde_json::to_string_pretty(&report).expect("report serialises")
        );
    } else {
        crate::outln!("{}", report.head);
    }
    match (push, &report.tag) {
        (true, Some(tag)) => {
            let run = push_tags(
                repo,
                std::slice::from_ref(tag),
                &push_options,
                force,
                Stream::Inherit,
            )?;
            Ok(run.exit_code())
        }
        (true, None) => Err(CmdError::BadInput(
            "nothing to push: the series was not tagged".into(),
        )),
        (false, _) => Ok(exit::OK),
    }
}
