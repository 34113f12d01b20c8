//! How often in a row each series was given back to the queue, and why: without a
//! count, a series whose trouble keeps happening (a base that cannot be fetched, a
//! push that always runs past the deadline) would be taken and given back every
//! interval, for ever, and never say a word to its author.

use std::path::PathBuf;

use serde::{Deserialize, Serialize};

use crate::repo::Repo;

/// One give-back of one series.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct GiveBack {
    pub series: String,
    pub reason: String,
}

/// One JSON object a line in `<common git dir>/patchew-applier/given-back`, beside
/// the backstop's ledger: the count is this applier's, not the server's.
pub struct GiveBacks {
    path: PathBuf,
}

impl GiveBacks {
    pub fn new(repo: &Repo) -> Self {
        GiveBacks {
            path: repo.common_dir().join("patchew-applier").join("given-back"),
        }
    }

    /// The reasons `series` was given back so far, oldest first.
    pub fn reasons(&self, series: &str) -> Vec<String> {
        self.load()
            .into_iter()
            .filter(|g| g.series == series)
            .map(|g| g.reason)
            .collect()
    }

    /// Counts one more give-back of `series`.
    pub fn record(&self, series: &str, reason: &str) -> std::io::Result<()> {
        let mut entries = self.load();
        entries.push(GiveBack {
            series: series.to_owned(),
            reason: reason.to_owned(),
        });
        self.save(&entries)
    }

    /// Starts the count of `series` again: it was reported.
    pub fn forget(&self, series: &str) -> std::io::Result<()> {
        let mut entries = self.load();
        let count = entries.len();
        entries.retain(|g| g.series != series);
        if entries.len() == count {
            return Ok(());
        }
        self.save(&entries)
    }

    fn load(&self) -> Vec<GiveBack> {
        super::state_file::load(&self.path)
    }

    fn save(&self, entries: &[GiveBack]) -> std::io::Result<()> {
        super::state_file::save(&self.path, entries)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn counts_per_series_and_forgets_one_series_only() {
        let dir = std::env::temp_dir().join(format!("give-backs-{}", std::process::id()));
        let g = GiveBacks {
            path: dir.join("given-back"),
        };
        g.record("a@x", "first\nline").unwrap();
        g.record("b@x", "other").unwrap();
        g.record("a@x", "second").unwrap();
        assert_eq!(g.reasons("a@x"), ["first\nline", "second"]);
        g.forget("a@x").unwrap();
        assert!(g.reasons("a@x").is_empty());
        assert_eq!(g.reasons("b@x"), ["other"]);
        std::fs::remove_dir_all(dir).unwrap();
    }
}
