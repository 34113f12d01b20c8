//! Parser and whole-patch tests; the hunk engine, binary pieces and quoting have their
//! own tests next to their code.

use super::*;

fn parse_one(text: &str) -> FilePatch {
    let mut patches = parse(text.as_bytes()).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(patches.len(), 1, "{patches:#?}");
    patches.remove(0)
}

const MAIL_PATCH: &str = "---
 f.c | 2 +-
 1 file changed, 1 insertion(+), 1 deletion(-)

diff --git a/f.c b/f.c
index 1234567..89abcde 100644
--- a/f.c
+++ b/f.c
@@ -1,3 +1,3 @@ int main(void)
 a
-b
+B
 c
-- 
2.43.0
";

#[test]
fn parses_mail_patch_part_with_diffstat_and_signature() {
    let fp = parse_one(MAIL_PATCH);
    assert_eq!(fp.operation, Operation::Modify);
    assert_eq!(fp.path(), "f.c");
    assert_eq!(fp.old_mode, Some(FileMode::Regular));
    assert_eq!(fp.new_mode, Some(FileMode::Regular));
    assert_eq!(fp.old_oid.as_deref(), Some("1234567"));
    assert_eq!(fp.new_oid.as_deref(), Some("89abcde"));
    assert_eq!(fp.header_line, 5);
    let Body::Text(hunks) = &fp.body else {
        panic!()
    };
    assert_eq!(hunks[0].header, "@@ -1,3 +1,3 @@");
    assert_eq!(hunks[0].header_line, 9);
    assert_eq!(fp.apply(b"a\nb\nc\n").unwrap(), b"a\nB\nc\n");
}

#[test]
fn no_diff_gives_nothing() {
    assert!(parse(b"").unwrap().is_empty());
    assert!(parse(b"---\n 0 files changed\n\n-- \n2.43.0\n")
        .unwrap()
        .is_empty());
}

#[test]
fn hunk_counts_default_to_one() {
    let fp = parse_one("--- a/x\n+++ b/x\n@@ -1 +1 @@\n-a\n+b\n");
    let Body::Text(hunks) = &fp.body else {
        panic!()
    };
    assert_eq!((hunks[0].old_lines, hunks[0].new_lines), (1, 1));
    assert_eq!(fp.apply(b"a\n").unwrap(), b"b\n");
}

#[test]
fn traditional_create_and_delete_with_dev_null() {
    let fp = parse_one("--- /dev/null\n+++ b/new file\t2024-01-01 00:00:00\n@@ -0,0 +1 @@\n+x\n");
    assert_eq!(fp.operation, Operation::Create);
    assert_eq!(fp.new_path.as_ref(), Some(&BString::from("new file")));
    assert_eq!(fp.apply(b"").unwrap(), b"x\n");
    let fp = parse_one("--- a/gone\n+++ /dev/null\n@@ -1 +0,0 @@\n-x\n");
    assert_eq!(fp.operation, Operation::Delete);
    assert_eq!(fp.apply(b"x\n").unwrap(), b"");
}

#[test]
fn no_newline_markers_on_both_sides() {
    let text = "diff --git a/f b/f\n--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n-b\n\\ No newline at end of file\n+c\n\\ No newline at end of file\n";
    let fp = parse_one(text);
    let Body::Text(hunks) = &fp.body else {
        panic!()
    };
    assert_eq!(hunks[0].lines.get(1), Some(Line::Remove(b"b")));
    assert_eq!(hunks[0].lines.get(2), Some(Line::Add(b"c")));
    assert_eq!(fp.apply(b"a\nb").unwrap(), b"a\nc");
}

#[test]
fn empty_line_is_empty_context() {
    let fp = parse_one("--- a/f\n+++ b/f\n@@ -1,3 +1,3 @@\n a\n\n-b\n+c\n");
    assert_eq!(fp.apply(b"a\n\nb\n").unwrap(), b"a\n\nc\n");
}

#[test]
fn rename_copy_and_mode_headers() {
    let fp = parse_one("diff --git a/old name b/new name\nsimilarity index 100%\nrename from old name\nrename to new name\n");
    assert_eq!(fp.operation, Operation::Rename);
    assert_eq!(fp.old_path.as_ref(), Some(&BString::from("old name")));
    assert_eq!(fp.new_path.as_ref(), Some(&BString::from("new name")));
    assert!(matches!(fp.body, Body::None));
    assert_eq!(fp.apply(b"same").unwrap(), b"same");

    let fp = parse_one("diff --git a/x b/y\nsimilarity index 90%\ncopy from x\ncopy to y\nindex 1..2 100755\n--- a/x\n+++ b/y\n@@ -1 +1 @@\n-a\n+b\n");
    assert_eq!(fp.operation, Operation::Copy);
    assert_eq!(fp.new_mode, Some(FileMode::Executable));

    let fp = parse_one("diff --git a/s b/s\nold mode 100644\nnew mode 100755\n");
    assert_eq!(fp.operation, Operation::Modify);
    assert_eq!(
        (fp.old_mode, fp.new_mode),
        (Some(FileMode::Regular), Some(FileMode::Executable))
    );

    let fp = parse_one("diff --git \"a/q\\\"x\" \"b/q\\\"x\"\nold mode 100755\nnew mode 120000\n");
    assert_eq!(fp.path(), "q\"x");
    assert_eq!(fp.new_mode, Some(FileMode::Symlink));
}

#[test]
fn empty_file_creation_and_deletion() {
    let fp = parse_one("diff --git a/e b/e\nnew file mode 100644\nindex 0000000..e69de29\n");
    assert_eq!(fp.operation, Operation::Create);
    assert_eq!(fp.apply(b"").unwrap(), b"");
    assert!(matches!(
        fp.apply(b"x"),
        Err(ApplyError::CreateOverContent { .. })
    ));
    let fp = parse_one("diff --git a/e b/e\ndeleted file mode 100644\nindex e69de29..0000000\n");
    assert_eq!(fp.operation, Operation::Delete);
    assert_eq!(fp.old_mode, Some(FileMode::Regular));
    assert_eq!(fp.apply(b"").unwrap(), b"");
    assert!(matches!(
        fp.apply(b"x"),
        Err(ApplyError::DeleteLeavesContent { .. })
    ));
}

#[test]
fn gitlink_parses() {
    let text = "diff --git a/sub b/sub\nindex 1111111..2222222 160000\n--- a/sub\n+++ b/sub\n@@ -1 +1 @@\n-Subproject commit 1111111111111111111111111111111111111111\n+Subproject commit 2222222222222222222222222222222222222222\n";
    let fp = parse_one(text);
    assert_eq!(fp.new_mode, Some(FileMode::Gitlink));
}

#[test]
fn binary_without_data() {
    let fp = parse_one("diff --git a/b.bin b/b.bin\nindex 1234567..89abcde 100644\nBinary files a/b.bin and b/b.bin differ\n");
    let err = fp.apply(b"old").unwrap_err();
    assert_eq!(
        err.to_string(),
        "b.bin: binary patch lacks the binary data (the patch was made without --binary)"
    );
    let fp = parse_one("diff --git a/b.bin b/b.bin\ndeleted file mode 100644\nindex 1234567..0000000\nBinary files a/b.bin and /dev/null differ\n");
    assert_eq!(fp.apply(b"old").unwrap(), b"");
}

#[test]
fn binary_literal_with_reverse() {
    let text = format!(
        "diff --git a/b b/b\nindex 0000000000000000000000000000000000000000..8352675d67aed6625ece79af41c27fdb4ee2e867\nGIT binary patch\n{}{}-- \n2.43.0\n",
        binary::encode_hunk("literal", b"\x00\x01\x02"),
        binary::encode_hunk("literal", b"")
    );
    let fp = parse_one(&text);
    let Body::Binary(b) = &fp.body else { panic!() };
    assert!(matches!(b.reverse, Some(BinaryData::Literal(ref d)) if d.is_empty()));
    assert_eq!(fp.apply(b"").unwrap(), b"\x00\x01\x02");
}

#[test]
fn binary_delta_applies() {
    // delta: base 3, result 4, copy 3 bytes from 0, insert "!".
    let delta = [3u8, 4, 0x90, 3, 1, b'!'];
    let text = format!(
        "diff --git a/b b/b\nindex 1..2 100644\nGIT binary patch\n{}",
        binary::encode_hunk("delta", &delta)
    );
    let fp = parse_one(&text);
    assert_eq!(fp.apply(b"abc").unwrap(), b"abc!");
    let err = fp.apply(b"abcd").unwrap_err();
    assert!(err.to_string().contains("4 bytes"), "{err}");
}

#[test]
fn errors_name_the_line() {
    let err = parse(b"junk\n@@ -1 +1 @@\n-a\n+b\n").unwrap_err();
    assert_eq!(
        err.to_string(),
        "patch line 2: patch fragment without header"
    );
    let err = parse(b"--- a/f\n+++ b/f\n@@ -1,2 +1,2 @@\n a\n?x\n").unwrap_err();
    assert_eq!(err.to_string(), "patch line 5: corrupt patch");
    let err = parse(b"diff --git a/f b/f\nindex 1..2 100644\n-- \n2.43.0\n").unwrap_err();
    assert_eq!(err.to_string(), "patch line 3: patch with only garbage");
    let err = parse(b"diff --git a/f b/f\nold mode 100644\nnew mode 040000\n").unwrap_err();
    assert_eq!(err.line(), 3);
    let err =
        parse(b"diff --git a/f b/f\nnew file mode 100644\n--- a/f\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n")
            .unwrap_err();
    assert!(err.to_string().contains("/dev/null"), "{err}");
    let err = parse(
        b"diff --git a/f b/f\nnew file mode 100644\n--- /dev/null\n+++ b/f\n@@ -1 +1 @@\n-a\n+b\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("depends on old contents"), "{err}");
}

#[test]
fn rejects_nul_in_paths() {
    let err = parse(b"diff --git \"a/x\\000y\" \"b/x\\000y\"\nold mode 100644\nnew mode 100755\n")
        .unwrap_err();
    assert!(err.to_string().contains("NUL"), "{err}");
}

#[test]
fn hostile_sizes_fail_cheaply() {
    // A hunk claiming 2^31 lines just runs out of patch.
    let err = parse(b"--- a/f\n+++ b/f\n@@ -1,2147483648 +1,2147483648 @@\n a\n").unwrap_err();
    assert!(err.to_string().contains("truncated"), "{err}");
    let err = parse(b"--- a/f\n+++ b/f\n@@ -1,99999999999999999999999 +1 @@\n a\n").unwrap_err();
    assert!(err.to_string().contains("corrupt"), "{err}");
    let err = parse(
        b"diff --git a/b b/b\nindex 1..2\nGIT binary patch\nliteral 1000000000\nHcmV?d00001\n\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("size limit"), "{err}");
    let err = parse(
        b"diff --git a/b b/b\nindex 1..2\nGIT binary patch\nliteral 100000000\nHcmV?d00001\n\n",
    )
    .unwrap_err();
    assert!(err.to_string().contains("holds only"), "{err}");
}

#[test]
fn hostile_delta_result_size_is_refused() {
    // base 0, result 4 GiB, no instructions: refused without allocating.
    let delta = [0u8, 0x80, 0x80, 0x80, 0x80, 0x10];
    let text = format!(
        "diff --git a/b b/b\nindex 1..2 100644\nGIT binary patch\n{}",
        binary::encode_hunk("delta", &delta)
    );
    let err = parse_one(&text).apply(b"").unwrap_err();
    assert!(err.to_string().contains("size limit"), "{err}");
}

/// Cheap stand-in for the fuzzer: mutations of real patches must never panic.
#[test]
fn mutated_patches_never_panic() {
    let binary = format!(
        "diff --git a/b b/b\nindex 1..2 100644\nGIT binary patch\n{}",
        binary::encode_hunk("delta", &[3u8, 4, 0x90, 3, 1, b'!'])
    );
    let seeds = [
        MAIL_PATCH.as_bytes(),
        binary.as_bytes(),
        b"diff --git \"a/q\\\"x\" \"b/q\\\"x\"\nold mode 100755\nnew mode 120000\n",
    ];
    let mut state = 12345u64;
    let mut rand = move || {
        state = state.wrapping_mul(6364136223846793005).wrapping_add(1);
        (state >> 33) as usize
    };
    let alphabet = b"\n\\\" -+@,0123456789abAZ\r\t/";
    for seed in seeds {
        for _ in 0..3000 {
            let mut text = seed.to_vec();
            for _ in 0..1 + rand() % 4 {
                let at = rand() % (text.len() + 1);
                match rand() % 3 {
                    0 if at < text.len() => text[at] = alphabet[rand() % alphabet.len()],
                    1 if at < text.len() => {
                        text.remove(at);
                    }
                    _ => text.insert(at, alphabet[rand() % alphabet.len()]),
                }
            }
            if let Ok(patches) = parse(&text) {
                for fp in patches {
                    let _ = fp.apply(b"a\nb\nc\n");
                    let _ = fp.apply(b"abc");
                    let _ = fp.apply(b"");
                }
            }
        }
    }
}

/// A huge diff is held as its text plus one `Line` per line: the bookkeeping must
/// stay small beside a typical line of under 50 bytes.
#[test]
fn a_hunk_line_costs_at_most_24_bytes_of_bookkeeping() {
    assert!(std::mem::size_of::<Line>() <= 24);
}

/// The hunk lines point into the diff that `parse_owned` was given, except a last line
/// that needs the newline the input lacks.
#[test]
fn hunk_lines_are_stretches_of_the_diff() {
    let diff = b"--- a/f\n+++ b/f\n@@ -1 +1,2 @@\n x\n+y".to_vec();
    let range = diff.as_ptr_range();
    let files = parse_owned(diff).unwrap();
    let Body::Text(hunks) = &files[0].body else {
        panic!("not a text patch: {:?}", files[0].body);
    };
    let lines = &hunks[0].lines;
    let (Some(Line::Context(x)), Some(Line::Add(y))) = (lines.get(0), lines.get(1)) else {
        panic!("unexpected lines {lines:?}");
    };
    assert!(range.contains(&x.as_ptr()), "the context line was copied");
    assert_eq!(x, b"x\n");
    assert!(!range.contains(&y.as_ptr()));
    assert_eq!(y, b"y\n");
}

/// A text result is read piece by piece (old runs, context from the old content,
/// added lines from the diff): the reader fills whole buffers, and the pieces are
/// the assembled content.
#[test]
fn unassembled_content_reads_and_compares_as_the_assembled_one() {
    let old = "a\nb\nc\nd\ne\nf\ng\nh\n";
    let file = parse_one(
        "--- a/f\n+++ b/f\n@@ -2,3 +2,3 @@\n b\n-c\n+C\n d\n@@ -6,3 +6,4 @@\n f\n g\n+g2\n h\n",
    );
    let applied = file.apply_with_report(old.as_bytes()).unwrap();
    let want = b"a\nb\nC\nd\ne\nf\ng\ng2\nh\n";
    assert_eq!(applied.content.len(), want.len());
    assert!(applied.content.is(want));
    assert!(!applied.content.is(b"a\nb\nC\nd\ne\nf\ng\ng3\nh\n"));
    assert!(!applied.content.is(old.as_bytes()));
    let mut reader = applied.content.reader();
    let mut buf = [0u8; 7];
    let mut got = Vec::new();
    loop {
        let n = std::io::Read::read(&mut reader, &mut buf).unwrap();
        if n == 0 {
            break;
        }
        got.extend_from_slice(&buf[..n]);
        if got.len() < want.len() {
            assert_eq!(n, buf.len(), "a read short of the end fills the buffer");
        }
    }
    assert_eq!(got, want);
    drop(reader);
    assert_eq!(applied.content.into_vec(), want);
}
