//! `git patchew retest`: runs a series' tests again. GitLab starts no pipeline for a
//! tag push that changes nothing, so the series' tag is deleted on the ci-hub and
//! pushed again (both through `git push`, so the pre-push hook checks the tag); the
//! `testing.gitlab` result goes back to `pending` first (a pipeline's `running`
//! report must not be overwritten by ours), and the applier's backstop watches the
//! tag again from now on.

use crate::http::{encode_component, HttpError};
use crate::input::msgid::MessageId;
use crate::repo::Repo;
use crate::report::backstop::{self, Ledger, Pushed};
use crate::report::patchew::Patchew;
use crate::transport::{self, GitRun, Stream, TransportError};

#[derive(Debug, thiserror::Error)]
pub enum RetestError {
    #[error("no tag {tag} in this repository: the series was never applied here (git patchew apply, or the applier), so there is nothing to test again")]
    NoTag { tag: String },
    #[error("Patchew refused to put testing.gitlab of <{id}> back to pending: {source}")]
    Patchew { id: String, source: HttpError },
    #[error("git push could not {what} {tag} on remote {remote}: {reason}")]
    Push {
        what: &'static str,
        tag: String,
        remote: String,
        reason: String,
    },
    #[error(transparent)]
    Transport(#[from] TransportError),
}

/// What retest needs, as plain data.
pub struct Request<'a> {
    pub id: &'a MessageId,
    /// `refs/tags/<prefix>/<id>`.
    pub tag: &'a str,
    /// The ci-hub remote (name or URL).
    pub remote: &'a str,
    pub project_id: u64,
}

/// What was done, for the output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Retested {
    pub head: String,
    /// The tag was not on the ci-hub (nothing to delete).
    pub was_absent: bool,
    /// `git push`'s messages (the hook's included).
    pub output: String,
}

pub fn retest(repo: &Repo, patchew: &Patchew, r: &Request) -> Result<Retested, RetestError> {
    let head = repo
        .try_resolve_commit(r.tag)
        .map(|o| o.to_string())
        .ok_or_else(|| RetestError::NoTag {
            tag: r.tag.to_owned(),
        })?;
    let result_uri = testing_result_uri(patchew.server_url(), r.project_id, r.id);
    let pending = serde_json::json!({"status": "pending", "data": {"head": head}});
    patchew
        .put_json(&result_uri, &pending)
        .map_err(|source| RetestError::Patchew {
            id: r.id.as_str().to_owned(),
            source,
        })?;
    let deleted = push(repo, r.remote, &format!(":{}", r.tag))?;
    let was_absent = says_absent(&deleted);
    if !deleted.success && !was_absent {
        return Err(failed("delete", r, &deleted));
    }
    let pushed = push(repo, r.remote, &format!("{0}:{0}", r.tag))?;
    if !pushed.success {
        return Err(failed("push", r, &pushed));
    }
    // The backstop's clock starts again: a pipeline that stays silent is reported
    // patchew.ciTimeout from now.
    let entry = Pushed {
        result_uri,
        tag: r.tag.to_owned(),
        head: head.clone(),
        series: r.id.as_str().to_owned(),
        pushed_at: backstop::now(),
    };
    let mut output = format!("{}{}", deleted.output, pushed.output);
    if let Err(e) = Ledger::new(repo).record(entry) {
        output.push_str(&format!(
            "warning: the backstop cannot watch this tag: {e}\n"
        ));
    }
    Ok(Retested {
        head,
        was_absent,
        output,
    })
}

/// `{server}/api/v1/projects/{id}/series/{stored id}/results/testing.gitlab/`.
pub fn testing_result_uri(server: &str, project_id: u64, id: &MessageId) -> String {
    format!(
        "{}/api/v1/projects/{project_id}/series/{}/results/testing.gitlab/",
        server.trim_end_matches('/'),
        encode_component(&id.patchew_stored())
    )
}

fn push(repo: &Repo, remote: &str, refspec: &str) -> Result<GitRun, TransportError> {
    transport::push(
        repo.top_dir(),
        remote,
        &[refspec.to_owned()],
        &[],
        false,
        Stream::Capture,
    )
}

/// git's words for deleting a ref the remote does not have: an error from older
/// servers, a warning (and success) from receive-pack since git 2.x.
fn says_absent(run: &GitRun) -> bool {
    run.output.contains("remote ref does not exist")
        || run.output.contains("deleting a non-existent ref")
}

fn failed(what: &'static str, r: &Request, run: &GitRun) -> RetestError {
    RetestError::Push {
        what,
        tag: r.tag.to_owned(),
        remote: r.remote.to_owned(),
        reason: run.failure_reason().unwrap_or("git push failed").to_owned(),
    }
}
