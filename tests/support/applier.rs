//! The applier's world, shared by the tests that run `git patchew applier`: an
//! upstream project with a CI file, a bare ci-hub, the applier's bare mirror, and
//! the tests' Patchew ([`FakePatchew`]) serving one project that pushes to the hub,
//! with a user whose token ([`TOKEN`]) is in both groups (`importers` to write the
//! `git` result, `testers` for `testing.*`).

use std::path::{Path, PathBuf};
use std::process::Output;

use serde_json::json;

use super::git::TestRepo;
use super::patchew::{FakePatchew, Role};
use super::StandIn;

/// The token of the applier's Patchew user.
pub const TOKEN: &str = "s3cr3t-applier-token";
pub const INCLUDE: &str = "https://ci.example.org/patchew-ci.yml";
pub const PUBLIC_URL: &str = "https://gitlab.example.org/ci-hub.git";
/// The CI file the upstream project starts with, unless a test gives another.
pub const CI_PLAIN: &str = "build:\n  script: make\n";

pub struct World {
    pub project: TestRepo,
    pub mirror: PathBuf,
    pub hub: PathBuf,
    pub server: StandIn,
    pub patchew: FakePatchew,
}

/// The world with `ci` as the project's `.gitlab-ci.yml`, and `config` set in the
/// mirror after `patchew.server` and `patchew.ciInclude`.
pub fn world(ci: &str, config: &[(&str, &str)]) -> World {
    let project = TestRepo::new();
    project.write(".gitlab-ci.yml", ci);
    project.write("main.c", "int x = 1;\n");
    project.commit("base");
    let hub = project.scratch("hub.git");
    project.git(&["init", "-q", "--bare", hub.to_str().unwrap()]);
    project.git_in(&hub, &["config", "receive.advertisePushOptions", "true"]);
    let server = StandIn::start();
    let patchew = FakePatchew::install(
        &server,
        json!({
            "pushurl": hub.to_str().unwrap(),
            "url": PUBLIC_URL,
            "source": format!("{} main", project.path.display()),
        }),
    );
    patchew.add_user("applier", TOKEN, Role::Applier);
    let w = World {
        project,
        mirror: PathBuf::new(),
        hub,
        server,
        patchew,
    };
    let mirror = add_mirror(&w, "mirror.git", config);
    World { mirror, ..w }
}

/// Another applier's repository: a bare clone configured for the same server.
pub fn add_mirror(w: &World, name: &str, config: &[(&str, &str)]) -> PathBuf {
    let mirror = w.project.clone_to(name, &["--bare"]);
    let url = w.server.url();
    let base = [
        ("patchew.server", url.as_str()),
        ("patchew.ciInclude", INCLUDE),
    ];
    for (k, v) in base.iter().chain(config) {
        w.project.git_in(&mirror, &["config", k, v]);
    }
    mirror
}

/// One patch changing main.c, mailed with this Message-Id, then forgotten.
pub fn one_patch(p: &TestRepo, msgid: &str, content: &str) -> String {
    p.write("main.c", content);
    p.commit("change main.c\n\nBody.");
    let mbox = p.git(&["format-patch", "--stdout", "-1", "HEAD"]);
    p.git(&["reset", "-q", "--hard", "HEAD~1"]);
    mbox.replacen("Subject:", &format!("Message-Id: <{msgid}>\nSubject:"), 1)
}

/// Mails the commits that `edits` makes (one patch each) with Message-Ids
/// `<msgid>` (a single patch) or `<msgid>.N` after a cover `<msgid>`, like Patchew's
/// series mbox (patches only); then forgets them, like a series on a list.
pub fn mail_series(p: &TestRepo, msgid: &str, edits: &[(&str, &str)]) -> String {
    for (file, content) in edits {
        p.write(file, content);
        p.commit(&format!("change {file}\n\nBody of the change to {file}."));
    }
    let n = edits.len().to_string();
    let mbox = p.git(&["format-patch", "--stdout", &format!("-{n}"), "HEAD"]);
    p.git(&["reset", "-q", "--hard", &format!("HEAD~{n}")]);
    let mut out = String::new();
    for (i, mail) in split_mails(&mbox).into_iter().enumerate() {
        let id = if edits.len() == 1 {
            msgid.to_owned()
        } else {
            format!("{}.{}", msgid, i + 1)
        };
        out.push_str(&mail.replacen("Subject:", &format!("Message-Id: <{id}>\nSubject:"), 1));
    }
    out
}

/// Splits `git format-patch --stdout` output at its `From <sha> <date>` lines.
pub fn split_mails(mbox: &str) -> Vec<String> {
    let mut mails: Vec<String> = Vec::new();
    for line in mbox.split_inclusive('\n') {
        let from_line = line.starts_with("From ")
            && line.len() > 45
            && line[5..45].bytes().all(|b| b.is_ascii_hexdigit());
        if from_line || mails.is_empty() {
            mails.push(String::new());
        }
        mails.last_mut().unwrap().push_str(line);
    }
    mails
}

/// `git patchew applier --once` in `mirror` with [`TOKEN`] and `extra` arguments.
pub fn run_applier(w: &World, mirror: &Path, extra: &[&str]) -> Output {
    run_applier_as(w, mirror, TOKEN, extra)
}

/// The same with another user's token.
pub fn run_applier_as(w: &World, mirror: &Path, token: &str, extra: &[&str]) -> Output {
    w.project
        .command(env!("CARGO_BIN_EXE_git-patchew"), mirror)
        .env("PATCHEW_TOKEN", token)
        .args(["applier", "--once"])
        .args(extra)
        .output()
        .unwrap()
}

pub fn hub_tags(w: &World) -> Vec<String> {
    let tags = w.project.git_in(&w.hub, &["tag"]);
    tags.lines().map(str::to_owned).collect()
}
