//! Diff parsing: unified and git diffs, quoted names, binary hunks (base85 + zlib).
#![no_main]

use git_patchew::apply::patch;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(files) = patch::parse(data) {
        for f in &files {
            let _ = f.path();
        }
    }
});
