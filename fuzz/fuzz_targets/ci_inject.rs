//! CI injection: on any file, `inject` either refuses or returns a file that the
//! pre-push hook's `verify` accepts (the two must never disagree), and injecting
//! again finds the include already present.
#![no_main]

use git_patchew::ci::{self, IncludeUrl, Injection};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let url = IncludeUrl::parse("https://ci-hub.example.org/patchew/patchew-ci.yml")
        .expect("a valid include URL");
    if let Ok(Injection::Injected(new)) = ci::inject(data, &url) {
        if let Err(e) = ci::verify(data, &new, &url) {
            panic!("inject's output fails verify: {e}");
        }
        match ci::inject(&new, &url) {
            Ok(Injection::AlreadyPresent) => {}
            other => panic!("second injection: {other:?}"),
        }
    }
});
