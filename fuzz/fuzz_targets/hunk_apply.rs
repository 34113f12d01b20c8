//! Hunk application: the input is `<old file> NUL <patch>`; every file patch parsed
//! from the second part is applied to the first. Any result is fine but a panic, and
//! applying never yields more than the size cap.
#![no_main]

use git_patchew::apply::patch::{self, MAX_CONTENT_SIZE};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let (old, diff) = match data.iter().position(|&b| b == 0) {
        Some(i) => (&data[..i], &data[i + 1..]),
        None => (&b""[..], data),
    };
    if let Ok(files) = patch::parse(diff) {
        for f in &files {
            if let Ok(new) = f.apply(old) {
                assert!(new.len() <= MAX_CONTENT_SIZE);
            }
        }
    }
});
