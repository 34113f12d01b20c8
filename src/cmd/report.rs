//! `git patchew report`: PUT a testing result for a series, for scripts and for CI
//! jobs that have the binary.

use super::CmdError;
use crate::config::Settings;
use crate::msgid::MessageId;
use crate::repo::Repo;
use crate::server::Status;

#[derive(Debug, Clone)]
pub struct Args {
    pub msgid: String,
    pub status: Status,
    pub log: String,
    pub name: String,
    pub head: Option<String>,
    pub project_id: Option<u64>,
}

pub fn run(repo: &Repo, args: &Args) -> Result<(), CmdError> {
    let settings = Settings::load(repo)?;
    let msgid = MessageId::parse(&args.msgid).map_err(|e| CmdError::BadInput(e.to_string()))?;
    let project_id = args.project_id.or(settings.project_id).ok_or_else(|| {
        CmdError::BadInput("no project id: pass --project-id or set patchew.projectId".into())
    })?;
    let head = match &args.head {
        Some(h) => h.clone(),
        None => {
            let tag = format!("refs/tags/{}", msgid.tag_name(&settings.tag_prefix));
            repo.try_resolve_commit(&tag)
                .or_else(|| repo.try_resolve_commit("HEAD"))
                .map(|o| o.to_string())
                .ok_or_else(|| CmdError::BadInput("no head commit: pass --head".into()))?
        }
    };
    let patchew = super::patchew_client(&settings)?;
    patchew
        .put_testing_result(
            project_id,
            &msgid,
            &args.name,
            args.status,
            &args.log,
            &head,
        )
        .map_err(CmdError::from)
}
