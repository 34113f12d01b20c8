//! mbox splitting: any bytes either split or give an error; never a panic, and
//! splitting never invents bytes (each message is no longer than the input).
#![no_main]

use git_patchew::input::mbox::{self, Format};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    for format in [Format::Mboxo, Format::Mboxrd] {
        if let Ok(messages) = mbox::split_as(data, format) {
            let total: usize = messages.iter().map(Vec::len).sum();
            assert!(total <= data.len());
        }
    }
});
