//! One testing result for a series, written to Patchew (`git patchew report`).

use crate::config::Settings;
use crate::error::CmdError;
use crate::input::msgid::MessageId;
use crate::repo::Repo;
use crate::report::patchew::Status;

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
    let msgid = MessageId::parse(&args.msgid)?;
    let project_id = args.project_id.or(settings.project_id).ok_or_else(|| {
        CmdError::BadInput("no project id: pass --project-id or set patchew.projectId".into())
    })?;
    let head = match &args.head {
        Some(h) => h.clone(),
        None => {
            let tag = crate::publish::tag::ref_name(&msgid, &settings.tag_prefix);
            repo.try_resolve_commit(&tag)
                .or_else(|| repo.try_resolve_commit("HEAD"))
                .map(|o| o.to_string())
                .ok_or_else(|| CmdError::BadInput("no head commit: pass --head".into()))?
        }
    };
    let patchew = super::clients::patchew_client(&settings)?;
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
