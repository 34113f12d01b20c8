//! `git patchew apply`: mbox or message-id in, commits + CI include + tag out.

use std::path::PathBuf;

use serde::Serialize;

use crate::apply::bases;
use crate::apply::commits::{self, PatchToApply};
use crate::apply::prerequisite;
use crate::ci::pipeline::Pipeline;
use crate::ci::{self, IncludeUrl};
use crate::config::Settings;
use crate::error::CmdError;
use crate::http::{redact_url, HttpClient};
use crate::input::mail::{self, Ident};
use crate::input::mailinfo::{QuotedCr, QuotedCrSeen};
use crate::input::mbox;
use crate::input::msgid::MessageId;
use crate::input::series::{self, BaseHint, Series};
use crate::input::source::{self, Source, SourceFailure};
use crate::publish::tag;
use crate::repo::{Oid, Person, Repo};
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
    /// Also trailers naming someone other than the reply's sender.
    pub sloppy_trailers: bool,
    pub ci_include: Option<String>,
    /// `Message-ID:` line in each commit, like `git am -m`; `None`: as configured.
    pub message_id: Option<bool>,
    /// `Signed-off-by:` of the committer, like `git am -s`.
    pub signoff: bool,
    /// Fall back on a 3-way merge when a patch does not apply, like `git am -3`.
    pub three_way: bool,
    /// What `base` stands for, for the tag's story; `None`: `--base`. Set by the
    /// applier, whose base is the one Patchew named (its `based_on`): then a series
    /// whose `Based-on:` lines name several bases is applied on their merge instead,
    /// since Patchew's `based_on` holds one base only.
    pub base_choice: Option<tag::BaseChoice>,
    /// Where to fetch missing `Based-on:` tags from (a remote name or URL);
    /// `None`: the ci-hub remote (`patchew.remote`).
    pub base_remote: Option<String>,
    /// The options the tag will be pushed with: `ci.variable="N=V"` and `ci.skip`
    /// change the tag pipeline.
    pub push_options: Vec<String>,
    /// `git am --scissors`.
    pub scissors: bool,
    /// `git am --patch-format=mbox|mboxrd`; `None`: mbox, except public-inbox's
    /// messages (`From mboxrd@z`), which are mboxrd.
    pub patch_format: Option<mbox::Format>,
    /// Read the tag pipeline's `remote:`, `project:` and `template:` includes even
    /// without `patchew.gitlabUrl` (the applier, which is online anyway).
    pub fetch_includes: bool,
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
    /// The tag pipeline GitLab would run on the ci-hub; `None` when the tree could
    /// not be read.
    pub pipeline: Option<Pipeline>,
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
    let settings = Settings::load(repo)?;
    let wanted = args.msgid.as_deref().map(MessageId::parse).transpose()?;
    let (mbox, skipped) = read_input(&args.input, wanted.as_ref(), &settings)?;
    // Each stage's input is freed as soon as the next holds its own copy: with a
    // stranger's 200 MB mbox, the copies alive at once are what bounds memory. The
    // messages are cut and parsed one at a time, so the mbox and the parsed mails
    // are the only whole copies.
    let mails = parse_mbox(&mbox, args.options.patch_format)?;
    drop(mbox);
    let mut report = apply_mails(repo, &settings, mails, wanted, &args.options, progress)?;
    report.warnings.splice(0..0, skipped);
    Ok(report)
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
    let mails = parse_mbox(mbox, args.patch_format)?;
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
    // From here on objects and refs are written: a signal waits for a safe point.
    // Before (fetching, parsing) nothing is written and a signal ends us at once.
    crate::interrupt::handle_termination_signals();
    let include = resolve_include(args, settings)?;
    let mut series = series::assemble(
        &mails,
        &series::Options {
            wanted: wanted.clone(),
            allow_partial: args.allow_partial,
            trailers: args.trailers,
            sloppy_trailers: args.sloppy_trailers,
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
    for p in &series.patches {
        for t in &p.skipped_trailers {
            warnings.push(format!(
                "patch {}/{}: trailer not taken, it names someone else than the reply's sender (--sloppy-trailers takes it): {t}",
                p.number, p.total
            ));
        }
    }
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
        (Some(id), false) => Some(tag::checked_ref_name(id, &settings.tag_prefix)?),
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

    let committer = repo.committer()?;
    let (base, base_choice) = choose_base(
        repo,
        args,
        &series.base,
        settings,
        &committer,
        &mut warnings,
        progress,
    )?;
    warnings.extend(prerequisite_warnings(repo, base, &series)?);
    warnings.extend(series.patches.iter().filter_map(quoted_cr_warning));
    let patches = patches_to_apply(&mut series, &committer, args.signoff)?;
    let apply_options = commits::ApplyOptions {
        three_way: args.three_way,
    };
    let applied =
        commits::apply_series(repo, base, patches, &committer, apply_options, &mut |p| {
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
        head = ci::inject::inject_ci(repo, head, base, url, &committer, &mut warnings)?;
    }
    // Includes outside the tree are read when `patchew.gitlabUrl` is set (or for the
    // applier, `Options::fetch_includes`).
    let fetcher = (settings.gitlab_url.is_some() || args.fetch_includes)
        .then(|| super::includes::include_fetcher(settings));
    let pipeline = ci::inject::predict_pipeline(
        repo,
        settings,
        head,
        tag.as_deref(),
        &args.push_options,
        include.as_ref(),
        fetcher.as_ref().map(|f| f as &dyn ci::pipeline::Fetcher),
        &mut warnings,
    )?;
    fault_point("before-refs");
    if let (Some(t), Some(id)) = (&tag, &series_id) {
        let story = tag::Story {
            subject: series_subject(&series),
            message_id: id.clone(),
            version: series.version,
            base,
            base_choice,
            url: series_url(settings, id),
        };
        tag::write(
            repo,
            &tag::NewTag {
                ref_name: t.clone(),
                commit: head,
                story,
                tagger: committer.clone(),
                replace: args.force,
            },
        )?;
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
        pipeline,
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

/// Test-only fault injection, and the one place that reads `GIT_PATCHEW_FAULT`: when
/// it names `point`, the process aborts there (no unwinding, no destructors, no
/// cleanup: as good as a SIGKILL), so tests can prove that a crash at any step leaves
/// no new ref and a repository `git fsck --strict` accepts. Points, in order:
/// `before-patch:N` (N-1 commits written), `after-commits`, `before-refs` (CI commit
/// written), `after-refs`. Compiled in only with the `fault-injection` feature, which
/// `cargo test` turns on and no release build has.
#[cfg(feature = "fault-injection")]
fn fault_point(point: &str) {
    if std::env::var_os("GIT_PATCHEW_FAULT").is_some_and(|v| v == point) {
        crate::errln!("git-patchew: GIT_PATCHEW_FAULT={point}: aborting");
        std::process::abort();
    }
}

#[cfg(not(feature = "fault-injection"))]
fn fault_point(_point: &str) {}

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

/// The mbox, and a warning for each source tried before the one that had it.
fn read_input(
    input: &Input,
    wanted: Option<&MessageId>,
    settings: &Settings,
) -> Result<(Vec<u8>, Vec<String>), CmdError> {
    let sources = match input {
        Input::Mbox(path) => vec![Source::File(path.clone())],
        Input::Stdin => vec![Source::Stdin],
        Input::Fetch => configured_sources(settings),
    };
    if sources.is_empty() {
        return Err(CmdError::BadInput(
            "nowhere to fetch the series from: set patchew.server and patchew.project, or patchew.inbox, or use --mbox".into(),
        ));
    }
    let http = HttpClient::new(settings.http_config());
    match source::fetch_mbox(wanted, &sources, &http) {
        Ok(fetched) => {
            let skipped = fetched
                .skipped
                .iter()
                .map(|f| format!("{f}; used {}", fetched.origin))
                .collect();
            Ok((fetched.mbox, skipped))
        }
        Err(mut e) => {
            if matches!(input, Input::Fetch) {
                e.tried.extend(settings.unusable_sources().into_iter().map(
                    |(source_name, missing)| SourceFailure::Unconfigured {
                        source_name,
                        missing,
                    },
                ));
            }
            Err(e.into())
        }
    }
}

/// Cuts and parses the messages of `bytes` one by one. A signal or the applier's
/// deadline stops it between messages: one message, at most the mbox size cap, is
/// decoded in linear time, but an mbox may hold thousands.
fn parse_mbox(bytes: &[u8], format: Option<mbox::Format>) -> Result<Vec<mail::Mail>, CmdError> {
    mbox::messages_as(bytes, format)?
        .enumerate()
        .map(|(i, raw)| {
            crate::interrupt::check(&format!("message {} of the mbox", i + 1))?;
            mail::parse(&raw?)
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

/// The subject the series goes by: its cover letter's, else its first patch's.
fn series_subject(series: &Series) -> String {
    series
        .cover
        .as_ref()
        .map(|c| c.subject.clone())
        .or_else(|| series.patches.first().map(|p| p.info.subject.clone()))
        .unwrap_or_default()
}

/// The series' page on Patchew, when the server and project are configured.
fn series_url(settings: &Settings, id: &MessageId) -> Option<String> {
    let server = settings.server.as_deref()?;
    let project = settings.project.as_deref()?;
    Some(format!("{server}/{project}/{}/", id.patchew_stored()))
}

/// The base commit, and how it was chosen: `--base`; in the applier, Patchew's
/// `based_on` unless the series names several bases; else the series' own lines.
#[allow(clippy::too_many_arguments)]
fn choose_base(
    repo: &Repo,
    args: &Options,
    hint: &BaseHint,
    settings: &Settings,
    committer: &Person,
    warnings: &mut Vec<String>,
    progress: &mut dyn FnMut(&str),
) -> Result<(Oid, tag::BaseChoice), CmdError> {
    let several = matches!(hint, BaseHint::BasedOn(ids) if ids.len() > 1);
    match (&args.base, &args.base_choice) {
        (Some(_), Some(patchew)) if several => {
            progress(&format!(
                "Base: the series' Based-on lines, merged (Patchew's based_on holds one base only: {patchew})"
            ));
        }
        (Some(rev), Some(patchew)) => {
            let lines = match hint {
                BaseHint::BasedOn(ids) => Some(tag::BaseChoice::BasedOn(ids.clone())),
                _ => None,
            };
            if lines.as_ref().is_some_and(|l| l != patchew) {
                warnings.push(format!(
                    "Patchew's based_on ({patchew}) and the series' Based-on line disagree: using Patchew's"
                ));
            }
            progress(&format!("Base: {patchew}, as Patchew's based_on says"));
            return Ok((resolve_rev(repo, rev)?, patchew.clone()));
        }
        (Some(rev), None) => return Ok((resolve_rev(repo, rev)?, tag::BaseChoice::Explicit)),
        (None, _) => {}
    }
    let fetch_from = args.base_remote.as_deref().unwrap_or(&settings.remote);
    match hint {
        BaseHint::BasedOn(ids) if ids.len() > 1 => {
            let merge = merge_bases(repo, ids, fetch_from, settings, committer)?;
            return Ok((merge, tag::BaseChoice::BasedOn(ids.clone())));
        }
        BaseHint::BasedOn(ids) => {
            let id = &ids[0];
            let tag = tag::ref_name(id, &settings.tag_prefix);
            if let Some(oid) = find_tag(repo, fetch_from, &tag) {
                return Ok((oid, tag::BaseChoice::BasedOn(ids.clone())));
            }
            warnings.push(format!(
                "the series is based on <{id}>, but {tag} exists neither here nor on {} (not applied yet?): using mainline",
                redact_url(fetch_from)
            ));
        }
        BaseHint::BaseCommit(sha) => {
            if let Some(oid) = repo.try_resolve_commit(sha) {
                return Ok((oid, tag::BaseChoice::BaseCommit));
            }
            warnings.push(format!(
                "base-commit {sha} is not in this repository: using mainline"
            ));
        }
        BaseHint::None => {}
    }
    Ok((mainline(repo, settings)?, tag::BaseChoice::Mainline))
}

/// A warning for each `prerequisite-patch-id:` of the series that is not in the
/// history of `base` (down to the series' base-commit, when it names one).
fn prerequisite_warnings(repo: &Repo, base: Oid, series: &Series) -> Result<Vec<String>, CmdError> {
    if series.prerequisites.is_empty() {
        return Ok(Vec::new());
    }
    let stop_at = match &series.base {
        BaseHint::BaseCommit(sha) => repo.try_resolve_commit(sha),
        _ => None,
    };
    let found = prerequisite::check(repo, base, stop_at, &series.prerequisites)?;
    let looked_at = if found.cut_short {
        format!(" (looked at its last {} commits only)", found.walked)
    } else {
        String::new()
    };
    Ok(found
        .missing
        .iter()
        .map(|id| {
            format!(
                "prerequisite-patch-id {id} is not in the history of the base {base}{looked_at}: the series needs a patch that is not applied"
            )
        })
        .collect())
}

fn resolve_rev(repo: &Repo, rev: &str) -> Result<Oid, CmdError> {
    repo.resolve_commit(rev).map_err(CmdError::Revision)
}

/// The merge of the tags of the series `ids` names; every one must exist, here or
/// on `fetch_from`.
fn merge_bases(
    repo: &Repo,
    ids: &[MessageId],
    fetch_from: &str,
    settings: &Settings,
    committer: &Person,
) -> Result<Oid, CmdError> {
    let mut found = Vec::new();
    let mut missing_tags = Vec::new();
    for id in ids {
        let tag = tag::ref_name(id, &settings.tag_prefix);
        match find_tag(repo, fetch_from, &tag) {
            Some(commit) => found.push(bases::Base {
                id: id.clone(),
                commit,
            }),
            None => missing_tags.push(tag),
        }
    }
    let (first, rest) = match found.split_first() {
        Some(split) if missing_tags.is_empty() => split,
        _ => {
            return Err(bases::BaseError::Missing {
                bases: ids.to_vec(),
                missing_tags,
                // The applier fetches from its mirror's push URL, which may hold
                // credentials.
                remote: redact_url(fetch_from),
            }
            .into());
        }
    };
    Ok(bases::merge(repo, first, rest, committer)?)
}

/// The commit of a base series' tag, fetched from `fetch_from` when it is not here.
fn find_tag(repo: &Repo, fetch_from: &str, tag: &str) -> Option<Oid> {
    repo.try_resolve_commit(tag)
        .or_else(|| fetch_tag(repo, fetch_from, tag))
}

/// The base series' tag from the ci-hub remote (or the URL the applier gave), where
/// the applier pushed it; `None` when the remote is not configured or does not have
/// it.
fn fetch_tag(repo: &Repo, remote: &str, tag: &str) -> Option<Oid> {
    let is_url = remote.contains('/') || remote.contains(':');
    if !is_url {
        repo.remote_url(remote)?;
    }
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
            .map_err(|e| CmdError::setting("patchew.mainline", e));
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
    crate::input::date::parse_date(date)
        .or_else(|| crate::input::date::parse_date(&format!("{date} +0000")))
}

/// The configured network sources, in order; a name whose keys are unset is
/// skipped.
fn configured_sources(settings: &Settings) -> Vec<Source> {
    settings
        .source_order
        .iter()
        .filter_map(|name| match name.as_str() {
            "patchew" => Some(Source::Patchew {
                server: settings.server.clone()?,
                project: settings.project.clone()?,
            }),
            "inbox" => Some(Source::Inbox {
                url: settings.inbox.clone()?,
            }),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The applier's deadline stops the mbox parse between messages, naming the
    /// message that would have come next.
    #[test]
    fn a_passed_deadline_stops_the_mbox_parse() {
        let mbox = "From x Mon Sep 17 00:00:00 2001\nSubject: one\n\nbody\n\
                    From x Mon Sep 17 00:00:00 2001\nSubject: two\n\nbody\n";
        assert_eq!(parse_mbox(mbox.as_bytes(), None).unwrap().len(), 2);
        crate::interrupt::set_deadline(Some(std::time::Instant::now()));
        let stopped = parse_mbox(mbox.as_bytes(), None);
        crate::interrupt::set_deadline(None);
        match stopped {
            Err(CmdError::Stopped(crate::interrupt::Stop::Deadline(at))) => {
                assert_eq!(at, "message 1 of the mbox")
            }
            other => panic!("not stopped at the deadline: {other:?}"),
        }
    }
}
