//! Every integration test, linked into one binary: one link instead of one per file
//! (measured: rebuilding the tests after a library change took 8-9 s instead of
//! 18-23 s, and the quick tests ran in 32 s instead of 40 s, on 2 busy cores).
//!
//! The test files stay where they were (`tests/<name>.rs`); each is a module here.
//! `autotests = false` in Cargo.toml, so a new file must be listed below: the test at
//! the bottom fails until it is.

#[path = "../support/mod.rs"]
mod support;

#[path = "../applier.rs"]
mod applier;

#[path = "../applier_deadline.rs"]
mod applier_deadline;

#[path = "../apply_oracle.rs"]
mod apply_oracle;

#[path = "../backstop.rs"]
mod backstop;

#[path = "../bases.rs"]
mod bases;

#[path = "../ci_check.rs"]
mod ci_check;

#[path = "../ci_includes.rs"]
mod ci_includes;

#[path = "../ci_injection.rs"]
mod ci_injection;

#[path = "../ci_jobs.rs"]
mod ci_jobs;

#[path = "../ci_verdict.rs"]
mod ci_verdict;

#[path = "../cli.rs"]
mod cli;

#[path = "../config.rs"]
mod config;

#[path = "../doctor.rs"]
mod doctor;

#[path = "../doctor_fix.rs"]
mod doctor_fix;

#[path = "../exit_codes.rs"]
mod exit_codes;

#[path = "../fetch.rs"]
mod fetch;

#[path = "../fsck_attacks.rs"]
mod fsck_attacks;

#[path = "../git_habits.rs"]
mod git_habits;

#[path = "../gitlab_client.rs"]
mod gitlab_client;

#[path = "../hook_attacks.rs"]
mod hook_attacks;

#[path = "../hook_push.rs"]
mod hook_push;

#[path = "../hostile.rs"]
mod hostile;

#[path = "../layout.rs"]
mod layout;

#[path = "../locks_and_signals.rs"]
mod locks_and_signals;

#[path = "../mail_fidelity.rs"]
mod mail_fidelity;

#[path = "../mail_differences.rs"]
mod mail_differences;

#[path = "../mail_oracle.rs"]
mod mail_oracle;

#[path = "../mailparse_oracle.rs"]
mod mailparse_oracle;

#[path = "../merged.rs"]
mod merged;

#[path = "../network_attacks.rs"]
mod network_attacks;

#[path = "../notification.rs"]
mod notification;

#[path = "../odd_input.rs"]
mod odd_input;

#[path = "../patch_oracle.rs"]
mod patch_oracle;

#[path = "../patchew_contract.rs"]
mod patchew_contract;

#[path = "../pipeline_e2e.rs"]
mod pipeline_e2e;

#[path = "../prerequisites.rs"]
mod prerequisites;

#[path = "../prune.rs"]
mod prune;

#[path = "../proxy.rs"]
mod proxy;

#[path = "../real_mails.rs"]
mod real_mails;

#[path = "../retest.rs"]
mod retest;

#[path = "../series_thread.rs"]
mod series_thread;

#[path = "../server_client.rs"]
mod server_client;

#[path = "../tags.rs"]
mod tags;

#[path = "../three_way.rs"]
mod three_way;

#[test]
fn every_test_file_is_linked_here() {
    let listed = include_str!("main.rs");
    let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests");
    for entry in std::fs::read_dir(&dir).unwrap() {
        let name = entry.unwrap().file_name().to_string_lossy().into_owned();
        if let Some(stem) = name.strip_suffix(".rs") {
            assert!(
                listed.contains(&format!("#[path = \"../{name}\"]\nmod {stem};")),
                "tests/{name} is not in tests/all/main.rs, so it never runs: add it there"
            );
        }
    }
}
