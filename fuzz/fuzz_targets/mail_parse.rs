//! Mail decoding (headers, charsets, QP/base64, MIME) and the mailinfo step after it.
#![no_main]

use git_patchew::input::{mail, mailinfo};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(m) = mail::parse(data) {
        let info = mailinfo::mailinfo(&m);
        let _ = info.commit_message();
    }
});
