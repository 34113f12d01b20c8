//! The applier's small state files under `<common git dir>/patchew-applier/`: one JSON
//! object a line, rewritten whole.

use std::io::Write;
use std::path::Path;

use serde::de::DeserializeOwned;
use serde::Serialize;

/// The entries of `path`; a missing file, or a line that does not parse (a file from
/// another version), counts as no entry: these files only help, they never decide.
pub fn load<T: DeserializeOwned>(path: &Path) -> Vec<T> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    text.lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// Replaces the file with `entries`. Written aside, synced and renamed: a crash leaves
/// the old file or the new one, never half of one.
pub fn save<T: Serialize>(path: &Path, entries: &[T]) -> std::io::Result<()> {
    let dir = path.parent().expect("a state file is in a directory");
    std::fs::create_dir_all(dir)?;
    let tmp = path.with_extension("tmp");
    let mut file = std::fs::File::create(&tmp)?;
    for e in entries {
        let line = serde_json::to_string(e).expect("plain data serialises");
        writeln!(file, "{line}")?;
    }
    file.sync_all()?;
    std::fs::rename(&tmp, path)
}
