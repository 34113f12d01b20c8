//! `git patchew apply`: mbox or message-id in, commits + CI include + tag out.

use std::path::PathBuf;

use bstr::ByteSlice;
use serde::Serialize;

use super::CmdError;
use crate::apply::{self, PatchToApply};
use crate::ci::{self, IncludeUrl, Injection, CI_FILE};
use crate::config::Settings;
use crate::mail::{self, Ident};
use crate::mailinfo::{QuotedCr, QuotedCrSeen};
use crate::mbox;
use crate::msgid::MessageId;
use crate::repo::{Expect, Oid, Person, RefUpdate, Repo};
use crate::series::{self, BaseHint, Series};
use crate::server::HttpClient;
use crate::source::{self, Source};
use crate::transport::{self, Stream};

/// Where the series comes from.
#[derive(Debug, Clone)]
pub enum Input {
    /// From the configured sources, by message-id.
    Fetch,
    Mbox(PathBuf),
    Stdin,
}

#[derive(Debug, Clone)]
pub struct Args {
    pub input: Input,
    /// The message-id as the user wrote it: what to fetch, and which version of a
    /// thread to apply.
    pub msgid: Option<String>,
    pub options: Options,
}

/// How to apply, whatever the series came from.
#[derive(Debug, Clone, Default)]
pub struct Options {
    pub base: Option<String>,
    pub no_ci: bool,
    pub no_tag: bool,
    pub force: bool,
    pub allow_partial: bool,
    pub trailers: bool,
    pub ci_include: Option<String>,
    /// `Message-ID:` line in each commit, like `git am -m`; `None`: as configured.
    pub message_id: Option<bool>,
    /// `Signed-off-by:` of the committer, like `git am -s`.
    pub signoff: bool,
    /// Fall back on a 3-way merge when a patch does not apply, like `git am -3`.
    pub three_way: bool,
    /// `git am --scissors`.
    pub scissors: bool,
    /// `git am --quoted-cr=ACTION`.
    pub quoted_cr: QuotedCr,
}

#[derive(Debug, Serialize)]
pub struct Report {
    pub base: String,
    pub head: String,
    pub commits: Vec<CommitReport>,
    pub tag: Option<String>,
    pub warnings: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct CommitReport {
    pub number: usize,
    pub subject: String,
    pub message_id: Option<String>,
    /// `None` for an empty patch that was dropped.
    pub commit: Option<String>,
    pub trailers_added: Vec<String>,
    /// Whether some file of the patch needed the 3-way fallback.
    pub three_way: bool,
}

/// Reads the series from `args.input`, then [`apply_mbox`].
pub fn run(repo: &Repo, args: &Args, progress: &mut dyn FnMut(&str)) -> Result<Report, CmdError> {
    let settings = Settings::load(repo);
    let wanted = args
        .msgid
        .as_deref()
        .map(MessageId::parse)
        .transpose()
        .map_err(|e| CmdError::BadInput(e.to_string()))?;
    let mbox = read_input(&args.input, wanted.as_ref(), &settings)?;
    // Each stage's input is freed as soon as the next holds its own copy: with a
    // stranger's 200 MB mbox, the copies alive at once are what bounds memory. The
    // messages are cut and parsed one at a time, so the mbox and the parsed mails
    // are the only whole copies.
    let mails = parse_mbox(&mbox)?;
    drop(mbox);
    apply_mails(repo, &settings, mails, wanted, &args.options, progress)
}

/// Applies the series in `mbox` (the version `wanted` belongs to, if given), injects
/// the CI include and tags the result; `progress` gets `Applying: <subject>` lines.
/// The tag is written only at the very end, in one transaction (a Based-on tag may
/// be fetched from the ci-hub before: a complete copy of a remote tag).
pub fn apply_mbox(
    repo: &Repo,
    settings: &Settings,
    mbox: &[u8],
    wanted: Option<MessageId>,
    args: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, CmdError> {
    let mails = parse_mbox(mbox)?;
    apply_mails(repo, settings, mails, wanted, args, progress)
}

/// [`apply_mbox`] on mails already parsed; takes them so that it can free them.
fn apply_mails(
    repo: &Repo,
    settings: &Settings,
    mails: Vec<mail::Mail>,
    wanted: Option<MessageId>,
    args: &Options,
    progress: &mut dyn FnMut(&str),
) -> Result<Report, CmdError> {
    let include = resolve_include(args, settings)?;
    let mut series = series::assemble(
        &mails,
        &series::Options {
            wanted: wanted.clone(),
            allow_partial: args.allow_partial,
            trailers: args.trailers,
            message_id: args.message_id.unwrap_or(settings.add_message_id),
            scissors: args.scissors,
            quoted_cr: args.quoted_cr,
        },
    )?;
    let wanted_in_mbox = wanted
        .as_ref()
        .is_some_and(|w| mails.iter().any(|m| m.message_id.as_ref() == Some(w)));
    drop(mails);
    let mut warnings = Vec::new();
    if !series.missing.is_empty() {
        warnings.push(format!(
            "applying a partial series: patches {:?} are missing",
            series.missing
        ));
    }

    // The tag is named as Patchew names series: after the cover letter, else patch
    // 1. The message the user asked for names it only when it is one of those, or
    // is not in the mbox at all (Patchew's mbox has no cover letter).
    let own_id = series_message_id(&series);
    let series_id = wanted
        .filter(|w| !wanted_in_mbox || Some(w) == own_id.as_ref())
        .or(own_id);
    let tag = match (&series_id, args.no_tag) {
        (Some(id), false) => Some(format!(
            "refs/tags/{}",
            id.checked_tag_name(&settings.tag_prefix)
                .map_err(|e| CmdError::BadInput(e.to_string()))?
        )),
        (None, false) => {
            warnings.push("the series has no Message-Id: not tagged".into());
            None
        }
        (_, true) => None,
    };
    if let Some(t) = &tag {
        if !args.force && repo.ref_target(t).is_some() {
            return Err(CmdError::Exists(format!(
                "{t} already exists (use --force to replace it)"
            )));
        }
    }

    let base = resolve_base(
        repo,
        args.base.as_deref(),
        &series.base,
        settings,
        &mut warnings,
    )?;
    warnings.extend(series.patches.iter().filter_map(quoted_cr_warning));
    let committer = repo.committer()?;
    let patches = patches_to_apply(&mut series, &committer, args.signoff)?;
    let apply_options = apply::ApplyOptions {
        three_way: args.three_way,
    };
    let applied = apply::apply_series(repo, base, patches, &committer, apply_options, &mut |p| {
        fault_point(&format!("before-patch:{}", p.number));
        progress(&format!("Applying: {}", p.subject))
    })?;
    fault_point("after-commits");
    warnings.extend(applied.warnings.iter().cloned());
    // Like git am, a series that changes nothing (already applied) is no error; but
    // tagging the base would name mainline after the series.
    let tag = match tag {
        Some(t) if applied.head == base => {
            warnings.push(format!("no patch changed anything: {t} not created"));
            None
        }
        t => t,
    };

    let mut head = applied.head;
    if let Some(url) = &include {
        head = inject_ci(repo, head, base, url, &committer, &mut warnings)?;
    }
    fault_point("before-refs");
    if let Some(t) = &tag {
        let update = RefUpdate {
            name: t.clone(),
            new: head,
            expect: if args.force {
                Expect::Any
            } else {
                Expect::Absent
            },
        };
        if let Err(e) = repo.update_refs(&[update], "git patchew apply") {
            explain_ref_failure(repo, t, head, e)?;
        }
        fault_point("after-refs");
    }

    Ok(Report {
        base: base.to_string(),
        head: head.to_string(),
        commits: series
            .patches
            .iter()
            .zip(&applied.patches)
            .map(|(p, a)| CommitReport {
                number: p.number,
                subject: p.info.subject.clone(),
                message_id: p.message_id.as_ref().map(|m| m.to_string()),
                commit: a.commit.map(|c| c.to_string()),
                trailers_added: p.added_trailers.clone(),
                three_way: !a.three_way.is_empty(),
            })
            .collect(),
        tag: tag.map(|t| t.trim_start_matches("refs/tags/").to_owned()),
        warnings,
    })
}

fn quoted_cr_warning(p: &series::SeriesPatch) -> Option<String> {
    let at = format!("patch {}/{} {:?}", p.number, p.total, p.info.subject);
    Some(match p.info.quoted_cr? {
        QuotedCrSeen::Kept => format!(
            "{at}: quoted CRLF detected (lines of its encoded body end in CRLF; kept: --quoted-cr=strip removes them)"
        ),
        QuotedCrSeen::Stripped => format!(
            "{at}: quoted CRLF detected and stripped (its diff's header lines end in CRLF, which git never writes: the mail's transport added them; --quoted-cr=warn keeps them)"
        ),
    })
}

/// Turns a failed tag transaction into a message a person can act on. Another run
/// (the same series fetched twice, two appliers) may hold the ref's lock or have
/// created the tag between our check and our transaction. If it wrote the very
/// commit we wrote, as the same series applied within the same second does, the
/// outcome is the one we wanted: not an error.
fn explain_ref_failure(
    repo: &Repo,
    tag: &str,
    head: Oid,
    error: crate::repo::RepoError,
) -> Result<(), CmdError> {
    let lock = repo.common_dir().join(format!("{tag}.lock"));
    if lock.exists() {
        return Err(CmdError::Exists(format!(
            "cannot create {tag}: {} exists: another git process is updating it, or one was killed while doing so (remove the file if none is running)",
            lock.display()
        )));
    }
    match repo.ref_target(tag) {
        Some(now) if now == head => Ok(()),
        Some(now) => Err(CmdError::Exists(format!(
            "{tag} was created by another process meanwhile (it points to {now}; use --force to replace it)"
        ))),
        None => Err(error.into()),
    }
}

/// Test-only fault injection, and the one place that reads `GIT_PATCHEW_FAULT`: when
/// it names `point`, the process aborts there (no unwinding, no destructors, no
/// cleanup: as good as a SIGKILL), so tests can prove that a crash at any step leaves
/// no new ref and a repository `git fsck --strict` accepts. Points, in order:
/// `before-patch:N` (N-1 commits written), `after-commits`, `before-refs` (CI commit
/// written), `after-refs`. Not for production use; unset, it costs one getenv.
fn fault_point(point: &str) {
    if std::env::var_os("GIT_PATCHEW_FAULT").is_some_and(|v| v == point) {
        eprintln!("git-patchew: GIT_PATCHEW_FAULT={point}: aborting");
        std::process::abort();
    }
}

fn resolve_include(args: &Options, settings: &Settings) -> Result<Option<IncludeUrl>, CmdError> {
    if args.no_ci {
        return Ok(None);
    }
    let Some(url) = args.ci_include.as_ref().or(settings.ci_include.as_ref()) else {
        return Err(CmdError::BadInput(
            "no CI include URL: pass --ci-include URL, set patchew.ciInclude, or use --no-ci"
                .into(),
        ));
    };
    IncludeUrl::parse(url)
        .map(Some)
        .map_err(|e| CmdError::BadInput(e.to_string()))
}

fn read_input(
    input: &Input,
    wanted: Option<&MessageId>,
    settings: &Settings,
) -> Result<Vec<u8>, CmdError> {
    let sources = match input {
        Input::Mbox(path) => vec![Source::File(path.clone())],
        Input::Stdin => vec![Source::Stdin],
        Input::Fetch => settings.sources(),
    };
    if sources.is_empty() {
        return Err(CmdError::BadInput(
            "nowhere to fetch the series from: set patchew.server and patchew.project, or patchew.inbox, or use --mbox".into(),
        ));
    }
    let http = HttpClient::new(settings.http_config());
    let fetched = source::fetch_mbox(wanted, &sources, &http).map_err(|e| match input {
        Input::Fetch => CmdError::Network(e.to_string()),
        _ => CmdError::BadInput(e.to_string()),
    })?;
    Ok(fetched.mbox)
}

/// Cuts and parses the messages of `bytes` one by one.
fn parse_mbox(bytes: &[u8]) -> Result<Vec<mail::Mail>, CmdError> {
    let mbox_error = |e: mbox::MboxError| CmdError::BadInput(format!("mbox: {e}"));
    mbox::messages(bytes)
        .map_err(mbox_error)?
        .enumerate()
        .map(|(i, raw)| {
            mail::parse(&raw.map_err(mbox_error)?)
                .map_err(|e| CmdError::BadInput(format!("message {} of the mbox: {e}", i + 1)))
        })
        .collect()
}

fn series_message_id(series: &Series) -> Option<MessageId> {
    series
        .cover
        .as_ref()
        .and_then(|c| c.message_id.clone())
        .or_else(|| series.patches.first().and_then(|p| p.message_id.clone()))
}

fn resolve_base(
    repo: &Repo,
    explicit: Option<&str>,
    hint: &BaseHint,
    settings: &Settings,
    warnings: &mut Vec<String>,
) -> Result<Oid, CmdError> {
    if let Some(rev) = explicit {
        return repo
            .resolve_commit(rev)
            .map_err(|e| CmdError::BadInput(e.to_string()));
    }
    match hint {
        BaseHint::BasedOn(id) => {
            let tag = format!("refs/tags/{}", id.tag_name(&settings.tag_prefix));
            if let Some(oid) = repo
                .try_resolve_commit(&tag)
                .or_else(|| fetch_tag(repo, &settings.remote, &tag))
            {
                return Ok(oid);
            }
            warnings.push(format!(
                "the series is based on <{id}>, but {tag} exists neither here nor on {} (not applied yet?): using mainline",
                settings.remote
            ));
        }
        BaseHint::BaseCommit(sha) => {
            if let Some(oid) = repo.try_resolve_commit(sha) {
                return Ok(oid);
            }
            warnings.push(format!(
                "base-commit {sha} is not in this repository: using mainline"
            ));
        }
        BaseHint::None => {}
    }
    mainline(repo, settings)
}

/// The base series' tag from the ci-hub remote, where the applier pushed it; `None`
/// when the remote is not configured or does not have it.
fn fetch_tag(repo: &Repo, remote: &str, tag: &str) -> Option<Oid> {
    repo.remote_url(remote)?;
    let fetched = transport::fetch(
        repo.top_dir(),
        remote,
        &[format!("{tag}:{tag}")],
        Stream::Capture,
    )
    .ok()?;
    fetched
        .success
        .then(|| repo.try_resolve_commit(tag))
        .flatten()
}

fn mainline(repo: &Repo, settings: &Settings) -> Result<Oid, CmdError> {
    if let Some(rev) = &settings.mainline {
        return repo
            .resolve_commit(rev)
            .map_err(|e| CmdError::BadInput(format!("patchew.mainline: {e}")));
    }
    ["refs/remotes/origin/HEAD", "HEAD"]
        .iter()
        .find_map(|r| repo.try_resolve_commit(r))
        .ok_or_else(|| {
            CmdError::BadInput("no base: the repository has no HEAD; pass --base".into())
        })
}

/// The patches to commit; their diffs are moved out of `series` (it keeps what the
/// report needs), so that a huge diff is not held twice.
fn patches_to_apply(
    series: &mut Series,
    committer: &Person,
    signoff: bool,
) -> Result<Vec<PatchToApply>, CmdError> {
    let signoff_line =
        signoff.then(|| format!("Signed-off-by: {} <{}>", committer.name, committer.email));
    series
        .patches
        .iter_mut()
        .map(|p| {
            let (seconds, offset) = match p.info.date.as_deref().map(str::trim) {
                // As git am: no date (or an empty one) is the time of applying.
                None | Some("") => (committer.seconds, committer.offset),
                Some(date) => author_date(date).ok_or_else(|| {
                    CmdError::BadInput(format!(
                        "patch {}/{} {:?}: invalid date format: {date}",
                        p.number, p.total, p.info.subject
                    ))
                })?,
            };
            // git am refuses a patch without an author address; so do we.
            let Ident { name, email } = p.info.author.clone().ok_or_else(|| {
                CmdError::BadInput(format!(
                    "patch {}/{} {:?} has no author address in its From: line",
                    p.number, p.total, p.info.subject
                ))
            })?;
            let mut message = p.commit_message();
            if let Some(line) = &signoff_line {
                message = series::append_signoff(&message, line);
            }
            Ok(PatchToApply {
                number: p.number,
                total: p.total,
                subject: p.info.subject.clone(),
                message,
                author: Person {
                    name,
                    email,
                    seconds,
                    offset,
                },
                diff: std::mem::take(&mut p.info.patch),
            })
        })
        .collect()
}

/// The author date of a `Date:` value, or `None` where git am stops with "invalid
/// date format" (before, such a patch silently got the time of applying). A date
/// without a zone, which git reads in the local zone, is read as UTC: an applier's
/// clock zone says nothing about the sender's.
fn author_date(date: &str) -> Option<(i64, i32)> {
    crate::repo::parse_date(date).or_else(|| crate::repo::parse_date(&format!("{date} +0000")))
}

/// Gives `head` our CI include. Normally the tip commit is amended. When the last
/// patch itself changed the CI file, the include gets a commit of its own instead:
/// the pre-push hook proves the injection against the tip's first parent, and that
/// proof must not have to tell the patch's change from ours.
fn inject_ci(
    repo: &Repo,
    head: Oid,
    base: Oid,
    url: &IncludeUrl,
    committer: &Person,
    warnings: &mut Vec<String>,
) -> Result<Oid, CmdError> {
    if head == base {
        warnings.push("no commit was applied: the CI file of the base is left alone".into());
        return Ok(head);
    }
    let path = CI_FILE.as_bytes().as_bstr();
    let Some(old) = ci_file(repo, head)? else {
        warnings.push(format!(
            "no {CI_FILE} in the series' tree: nothing injected (GitLab runs no pipeline whose only jobs are in .post)"
        ));
        return Ok(head);
    };
    warnings.extend(ci::pipeline_warnings(&old));
    let new = match ci::inject(&old, url)? {
        Injection::AlreadyPresent => return Ok(head),
        Injection::Injected(new) => new,
    };
    let parent = repo.commit_info(head)?.parents.first().copied();
    let last_patch_changed_ci = match parent {
        Some(p) => ci_file(repo, p)? != Some(old),
        None => true,
    };
    if last_patch_changed_ci {
        warnings.push(format!(
            "the last patch changes {CI_FILE}: the include is added in a commit of its own"
        ));
        let message = format!(
            "patchew: report this pipeline to Patchew\n\nAdds the include of {}.\n",
            url.as_str()
        );
        return Ok(apply::commit_file(
            repo, head, path, &new, committer, &message,
        )?);
    }
    Ok(apply::amend_file(repo, head, path, &new, committer)?)
}

fn ci_file(repo: &Repo, commit: Oid) -> Result<Option<Vec<u8>>, CmdError> {
    Ok(repo.read_file(commit, CI_FILE.as_bytes().as_bstr())?)
}
