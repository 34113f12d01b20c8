//! What `git fsck --strict` refuses in the objects we write, checked before they are
//! written: path rules for tree entries (fsck.c `fsck_tree`, read-cache.c
//! `verify_path`), and the content rules of the special dot files.

use bstr::{BStr, BString, ByteSlice};

use crate::apply::patch::FileMode;
use crate::repo::ConfigEntry;

/// fsck's `largePathname`: a tree entry name longer than this is an error under
/// `--strict` (checked with git 2.47: 4096 bytes pass, 4097 do not).
const MAX_COMPONENT: usize = 4096;

/// A commit or `.gitmodules` content that `git fsck --strict` refuses; each names
/// fsck's rule.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FsckError {
    #[error("the commit message contains a NUL byte (nulInCommit)")]
    NulInCommit,
    #[error("the author contains a NUL byte (nulInHeader)")]
    NulInHeader,
    #[error("the author has no name (missingNameBeforeEmail)")]
    MissingName,
    #[error("the author name {0:?} contains '<', '>' or a newline (badName)")]
    BadName(String),
    #[error("the author address {0:?} contains '<', '>' or a newline (badEmail)")]
    BadEmail(String),
    /// A `.gitmodules` that git's config parser refuses.
    #[error(".gitmodules: not valid git config, git cannot parse it (gitmodulesParse)")]
    GitmodulesParse,
    #[error(
        ".gitmodules: submodule name {0:?} is empty or has a \"..\" component (gitmodulesName)"
    )]
    GitmodulesName(BString),
    /// `rule` is fsck's: gitmodulesUrl, gitmodulesPath or gitmodulesUpdate.
    #[error(".gitmodules: submodule {name:?} {key} = {value:?} ({rule})")]
    Gitmodules {
        name: BString,
        key: String,
        value: BString,
        rule: &'static str,
    },
}

/// A path (and what it will hold) that fsck refuses, or that would reach outside the
/// tree or into `.git` on some checkout.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PathError {
    #[error("empty path")]
    Empty,
    #[error("{0:?} contains a NUL byte")]
    Nul(BString),
    #[error("{0} is absolute")]
    Absolute(BString),
    #[error("{0} has an empty component")]
    EmptyComponent(BString),
    #[error("{path} has a {component:?} component")]
    DotComponent { path: BString, component: BString },
    /// fsck's `largePathname`; `start` is the component's first 40 characters.
    #[error("a path component of {len} bytes (\"{start}...\"), more than git's {MAX_COMPONENT} (largePathname)")]
    TooLong { len: usize, start: String },
    #[error("{0} reaches into .git")]
    DotGit(BString),
    #[error("{path} makes {name} a directory")]
    DotfileDirectory { path: BString, name: &'static str },
    #[error("{path} would make {name} a symlink")]
    DotfileSymlink { path: BString, name: &'static str },
    #[error("{path} would make {name} a submodule")]
    DotfileSubmodule { path: BString, name: &'static str },
    #[error("{0}: .gitattributes larger than 100 MB")]
    AttributesTooLarge(BString),
    #[error("{0}: .gitattributes line of 2048 bytes or more")]
    AttributesLineTooLong(BString),
}

/// Refuses a commit message or author that fsck would call broken (fsck.c
/// `fsck_commit`, `fsck_ident`): a NUL in the message (`nulInCommit`) or in the
/// author line (`nulInHeader`), an empty name (`missingNameBeforeEmail`), angle
/// brackets or a newline in the name (`badName`) or the address (`badEmail`).
pub fn check_commit(message: &str, author_name: &str, author_email: &str) -> Result<(), FsckError> {
    if message.contains('\0') {
        return Err(FsckError::NulInCommit);
    }
    if author_name.contains('\0') || author_email.contains('\0') {
        return Err(FsckError::NulInHeader);
    }
    if author_name.trim().is_empty() {
        return Err(FsckError::MissingName);
    }
    if author_name.contains(['<', '>', '\n']) {
        return Err(FsckError::BadName(author_name.to_owned()));
    }
    if author_email.contains(['<', '>', '\n']) {
        return Err(FsckError::BadEmail(author_email.to_owned()));
    }
    Ok(())
}

/// Whether fsck reads the content of a file at `path` (a special dot file): any
/// other file's content is only bytes to it.
pub fn reads_content(path: &BStr) -> bool {
    special_dotfile_at(path).is_some()
}

/// Whether fsck reads the blob at `path` as a `.gitmodules` file: its last
/// component is `.gitmodules` or one of its NTFS/HFS+ disguises.
pub fn is_gitmodules(path: &BStr) -> bool {
    special_dotfile_at(path).is_some_and(|d| d.name == ".gitmodules")
}

/// The `.gitmodules` rules of fsck.c `fsck_gitmodules_fn` (the shapes of
/// CVE-2018-11235, CVE-2018-17456 and CVE-2020-11008): a submodule name with a `..`
/// component (`gitmodulesName`), a URL that looks like an option or climbs out of
/// its root (`gitmodulesUrl`), a path that looks like an option (`gitmodulesPath`),
/// `update = !command` (`gitmodulesUpdate`).
pub fn check_gitmodules(entries: &[ConfigEntry]) -> Result<(), FsckError> {
    for e in entries.iter().filter(|e| e.section == "submodule") {
        let Some(name) = &e.subsection else { continue };
        let name = name.as_bstr();
        if !submodule_name_ok(name) {
            return Err(FsckError::GitmodulesName(name.to_owned()));
        }
        let Some(value) = &e.value else { continue };
        let value = value.as_bstr();
        let refused = match e.key.as_str() {
            "url" if !submodule_url_ok(value) => "gitmodulesUrl",
            "path" if value.starts_with(b"-") => "gitmodulesPath",
            "update" if value.starts_with(b"!") => "gitmodulesUpdate",
            _ => continue,
        };
        return Err(FsckError::Gitmodules {
            name: name.to_owned(),
            key: e.key.clone(),
            value: value.to_owned(),
            rule: refused,
        });
    }
    Ok(())
}

fn is_dir_sep(b: u8) -> bool {
    b == b'/' || b == b'\\'
}

/// submodule-config.c `check_submodule_name`.
fn submodule_name_ok(name: &BStr) -> bool {
    !name.is_empty()
        && name
            .split(|b| is_dir_sep(*b))
            .all(|component| component != b"..")
}

/// submodule-config.c `check_submodule_url`: no option-like URL; a relative or
/// `git://` URL without a newline once decoded and not climbing out of its root to a
/// `:` or `/`; a URL curl would fetch without a newline once decoded.
fn submodule_url_ok(url: &BStr) -> bool {
    if url.starts_with(b"-") {
        return false;
    }
    let relative = starts_with_dot_slash(url) || starts_with_dot_dot_slash(url);
    if relative || url.starts_with(b"git://") {
        if percent_decode(url).contains(&b'\n') {
            return false;
        }
        let (dotdots, rest) = leading_dotdots(url);
        return !(dotdots > 0 && matches!(rest.first(), Some(b':' | b'/')));
    }
    let curl = ["http://", "https://", "ftp://", "ftps://"]
        .iter()
        .any(|p| url.len() >= p.len() && url[..p.len()].eq_ignore_ascii_case(p.as_bytes()));
    !(curl && percent_decode(url).contains(&b'\n'))
}

fn starts_with_dot_slash(s: &[u8]) -> bool {
    s.len() >= 2 && s[0] == b'.' && is_dir_sep(s[1])
}

fn starts_with_dot_dot_slash(s: &[u8]) -> bool {
    s.len() >= 3 && s[0] == b'.' && s[1] == b'.' && is_dir_sep(s[2])
}

/// How many `../` start `url` (`./` skipped between them), and what follows.
fn leading_dotdots(mut url: &[u8]) -> (usize, &[u8]) {
    let mut count = 0;
    loop {
        if starts_with_dot_dot_slash(url) {
            count += 1;
            url = &url[3..];
        } else if starts_with_dot_slash(url) {
            url = &url[2..];
        } else {
            return (count, url);
        }
    }
}

/// `%XX` decoded, as git's `url_decode` does before looking for a newline; a `%` not
/// followed by two hex digits stays as it is.
fn percent_decode(s: &[u8]) -> Vec<u8> {
    percent_encoding::percent_decode(s).collect()
}

/// Refuses paths that git's fsck refuses (fsck.c `fsck_tree`, read-cache.c
/// `verify_path`), or that would reach outside the tree or into `.git` on a
/// case-insensitive or NTFS/HFS+ checkout. See [`check_entry`] for the rules that also
/// depend on what the path will hold.
pub fn check_path(path: &BStr) -> Result<(), PathError> {
    if path.is_empty() {
        return Err(PathError::Empty);
    }
    if path.contains(&0) {
        return Err(PathError::Nul(path.to_owned()));
    }
    if path.starts_with(b"/") {
        return Err(PathError::Absolute(path.to_owned()));
    }
    let components: Vec<&BStr> = path.split(|b| *b == b'/').map(|c| c.as_bstr()).collect();
    for (i, comp) in components.iter().enumerate() {
        let comp = *comp;
        if comp.is_empty() {
            return Err(PathError::EmptyComponent(path.to_owned()));
        }
        if comp == "." || comp == ".." {
            return Err(PathError::DotComponent {
                path: path.to_owned(),
                component: comp.to_owned(),
            });
        }
        if comp.len() > MAX_COMPONENT {
            return Err(PathError::TooLong {
                len: comp.len(),
                start: comp.to_str_lossy().chars().take(40).collect(),
            });
        }
        // git treats a backslash as a directory separator on Windows, so fsck checks
        // every backslash-separated part too (`a\.git` is `a/.git` there).
        for part in comp.split(|b| *b == b'\\').map(|p| p.as_bstr()) {
            if is_dot_git_disguise(part) {
                return Err(PathError::DotGit(path.to_owned()));
            }
        }
        // fsck reads `.gitmodules` and `.gitattributes` as blobs wherever they are: a
        // directory of that name is "non-blob found" (gitmodulesBlob).
        let last = i + 1 == components.len();
        if !last {
            if let Some(name) = special_dotfile(comp).filter(|n| n.must_be_blob) {
                return Err(PathError::DotfileDirectory {
                    path: path.to_owned(),
                    name: name.name,
                });
            }
        }
    }
    Ok(())
}

/// [`check_path`], plus what fsck checks of the entry `path` will be: `.gitmodules`
/// and `.gitattributes` (and their NTFS/HFS+ disguises) must be files, and none of
/// them nor `.gitignore`/`.mailmap` may be a symlink (gitmodulesSymlink and friends;
/// git refuses to follow those in a tree since 2.32, so such a patch cannot do what it
/// says); a `.gitattributes` fsck would call too large or too long-lined is refused.
pub fn check_entry(path: &BStr, mode: FileMode, data: Option<&[u8]>) -> Result<(), PathError> {
    check_path(path)?;
    let Some(name) = special_dotfile_at(path) else {
        return Ok(());
    };
    match mode {
        FileMode::Symlink => {
            return Err(PathError::DotfileSymlink {
                path: path.to_owned(),
                name: name.name,
            })
        }
        FileMode::Gitlink if name.must_be_blob => {
            return Err(PathError::DotfileSubmodule {
                path: path.to_owned(),
                name: name.name,
            })
        }
        _ => {}
    }
    if let (".gitattributes", Some(data), FileMode::Regular | FileMode::Executable) =
        (name.name, data, mode)
    {
        // fsck.c: ATTR_MAX_FILE_SIZE (100 MB) and ATTR_MAX_LINE_LENGTH (2048).
        if data.len() > 100 * 1024 * 1024 {
            return Err(PathError::AttributesTooLarge(path.to_owned()));
        }
        if data.split(|b| *b == b'\n').any(|l| l.len() >= 2048) {
            return Err(PathError::AttributesLineTooLong(path.to_owned()));
        }
    }
    Ok(())
}

/// A dot file git gives a meaning to, with the NTFS 8.3 short-name prefix git's
/// `is_ntfs_dot_generic` knows it by.
struct SpecialDotfile {
    name: &'static str,
    short_prefix: &'static str,
    /// fsck reads it as a blob, so it may be neither a directory nor a gitlink.
    must_be_blob: bool,
}

const SPECIAL_DOTFILES: &[SpecialDotfile] = &[
    SpecialDotfile {
        name: ".gitmodules",
        short_prefix: "gi7eba",
        must_be_blob: true,
    },
    SpecialDotfile {
        name: ".gitattributes",
        short_prefix: "gi7d29",
        must_be_blob: true,
    },
    SpecialDotfile {
        name: ".gitignore",
        short_prefix: "gi250a",
        must_be_blob: false,
    },
    SpecialDotfile {
        name: ".mailmap",
        short_prefix: "maba30",
        must_be_blob: false,
    },
];

/// Which special dot file `comp` (one path component) names on some filesystem git
/// protects: HFS+ (ignorable code points, any case) or NTFS (any case, trailing dots
/// and spaces, `:stream`, 8.3 short names), in the component or after a backslash.
/// The special dot file the last component of `path` names, if any.
fn special_dotfile_at(path: &BStr) -> Option<&'static SpecialDotfile> {
    let last = path.rsplit(|b| *b == b'/').next().unwrap_or_default();
    special_dotfile(last.as_bstr())
}

fn special_dotfile(comp: &BStr) -> Option<&'static SpecialDotfile> {
    SPECIAL_DOTFILES.iter().find(|d| {
        is_hfs_dot(comp, &d.name[1..])
            || comp
                .split(|b| *b == b'\\')
                .any(|part| is_ntfs_dot(part, &d.name[1..], d.short_prefix))
    })
}

/// git's `is_hfs_dot_generic`: `.` + `needle`, case-insensitive, ignoring the code
/// points HFS+ ignores; invalid UTF-8 ends the name, as in git.
fn is_hfs_dot(comp: &BStr, needle: &str) -> bool {
    hfs_chars(comp).eq(std::iter::once('.').chain(needle.chars()))
}

/// git's `is_ntfs_dot_generic`: `.needle`, the short name `needle[..6]~[1-4]`, or the
/// fallback short name `<prefix>~<digits>` (up to 8 bytes), each followed only by
/// dots and spaces up to the end or a `:` (an NTFS stream).
fn is_ntfs_dot(name: &[u8], needle: &str, short_prefix: &str) -> bool {
    let only_spaces_and_periods = |rest: &[u8]| {
        rest.iter()
            .take_while(|b| **b != b':')
            .all(|b| *b == b' ' || *b == b'.')
    };
    let needle = needle.as_bytes();
    if name.first() == Some(&b'.')
        && name.len() > needle.len()
        && name[1..=needle.len()].eq_ignore_ascii_case(needle)
    {
        return only_spaces_and_periods(&name[needle.len() + 1..]);
    }
    if name.len() >= 8
        && name[..6].eq_ignore_ascii_case(&needle[..6])
        && name[6] == b'~'
        && (b'1'..=b'4').contains(&name[7])
    {
        return only_spaces_and_periods(&name[8..]);
    }
    // Fallback short name: up to 6 prefix characters, `~`, a digit 1-9, more digits,
    // 8 bytes in all.
    if name.len() < 8 {
        return false;
    }
    let mut saw_tilde = false;
    let mut i = 0;
    while i < 8 {
        let c = name[i];
        if saw_tilde {
            if !c.is_ascii_digit() {
                return false;
            }
        } else if c == b'~' {
            i += 1;
            if !name.get(i).is_some_and(|d| (b'1'..=b'9').contains(d)) {
                return false;
            }
            saw_tilde = true;
        } else if i >= 6 || c & 0x80 != 0 || c.to_ascii_lowercase() != short_prefix.as_bytes()[i] {
            return false;
        }
        i += 1;
    }
    only_spaces_and_periods(&name[i..])
}

/// `.git` in any case, with trailing dots or spaces (Windows drops them), NTFS short
/// name `git~1` or alternate stream `.git::$INDEX_ALLOCATION`, or with HFS+ ignorable
/// code points in it (where, as in git, invalid UTF-8 ends the name: `.git\xff`).
fn is_dot_git_disguise(comp: &BStr) -> bool {
    if is_hfs_dot(comp, "git") {
        return true;
    }
    let stripped: Vec<u8> = strip_hfs_ignorables(comp);
    let lower = stripped.to_ascii_lowercase();
    let base = lower.split(|b| *b == b':').next().unwrap_or(&lower);
    let trimmed = base
        .iter()
        .rposition(|b| *b != b'.' && *b != b' ')
        .map_or(&base[..0], |end| &base[..=end]);
    trimmed == b".git" || trimmed == b"git~1"
}

/// Code points that HFS+ ignores when comparing names (the same list git's fsck uses).
const HFS_IGNORABLE: &[char] = &[
    '\u{200c}', '\u{200d}', '\u{200e}', '\u{200f}', '\u{202a}', '\u{202b}', '\u{202c}', '\u{202d}',
    '\u{202e}', '\u{206a}', '\u{206b}', '\u{206c}', '\u{206d}', '\u{206e}', '\u{206f}', '\u{feff}',
];

/// The characters HFS+ compares, lower-cased: ignorables dropped, and the name cut at
/// the first invalid UTF-8 sequence (git's `next_hfs_char` returns 0 there, which its
/// callers take as the end of the name).
fn hfs_chars(comp: &BStr) -> impl Iterator<Item = char> + '_ {
    let valid = comp.utf8_chunks().next().map_or("", |c| c.valid());
    valid
        .chars()
        .filter(|c| !HFS_IGNORABLE.contains(c))
        .map(|c| c.to_ascii_lowercase())
}

/// The component with HFS+ ignorables removed (bytes kept as they are when it is not
/// UTF-8).
fn strip_hfs_ignorables(comp: &BStr) -> Vec<u8> {
    match comp.to_str() {
        Ok(s) => s
            .chars()
            .filter(|c| !HFS_IGNORABLE.contains(c))
            .collect::<String>()
            .into_bytes(),
        Err(_) => comp.to_vec(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn unsafe_paths_are_refused() {
        for bad in [
            "",
            "/etc/passwd",
            "a//b",
            "a/./b",
            "../x",
            "a/..",
            ".git/config",
            ".GIT/hooks/x",
            "a/.git",
            ".git./x",
            ".git /x",
            "git~1/config",
            "GIT~1/x",
            ".git::$INDEX_ALLOCATION/x",
            ".g\u{200c}it/config",
            "\u{feff}.git/x",
            "a\0b",
            "a\\.git",
            ".git\\",
            "a/b\\git~1/c",
            ".gitmodules/x",
            "a/GITMOD~1/x",
            "gi7eba~9/x",
            ".gitattributes./x",
        ] {
            assert!(
                check_path(bad.as_bytes().as_bstr()).is_err(),
                "{bad:?} accepted"
            );
        }
        for good in [
            "a",
            "a/b.c",
            ".gitignore",
            ".github/x",
            "git",
            "a/.gitmodules",
            "dir/.git-blame",
            "...",
            "a\\b",
            "x:y",
            ".gitmodules",
            "gitmodules/x",
        ] {
            assert!(
                check_path(good.as_bytes().as_bstr()).is_ok(),
                "{good:?} refused"
            );
        }
        // HFS+: invalid UTF-8 ends the name, as in git's next_hfs_char.
        assert!(check_path(b".git\xff/x".as_bstr()).is_err());
        assert!(check_path(b"\xff.git/x".as_bstr()).is_ok());
    }

    fn entry(name: &str, key: &str, value: &str) -> ConfigEntry {
        ConfigEntry {
            section: "submodule".into(),
            subsection: Some(name.into()),
            key: key.into(),
            value: Some(value.into()),
        }
    }

    #[test]
    fn gitmodules_rules_follow_submodule_config_c() {
        for (name, key, value) in [
            ("..", "path", "x"),
            ("a\\..\\b", "path", "x"),
            ("", "path", "x"),
            ("x", "url", "-u"),
            ("x", "url", "../../:h"),
            ("x", "url", "./../.././/x"),
            ("x", "url", "..\\/x"),
            ("x", "url", "git://h/%0ax"),
            ("x", "url", "https://h/%0Ax"),
            ("x", "path", "-p"),
            ("x", "update", "!rm"),
        ] {
            let e = [entry(name, key, value)];
            assert!(
                check_gitmodules(&e).is_err(),
                "{name} {key}={value} accepted"
            );
        }
        for (name, key, value) in [
            ("a..b", "path", "x"),
            ("x", "url", "../x.git"),
            ("x", "url", "./x"),
            ("x", "url", "https://h/x"),
            ("x", "url", "git@h:x"),
            ("x", "path", "a-b"),
            ("x", "update", "merge"),
            ("x", "branch", "-weird-but-unchecked"),
        ] {
            let e = [entry(name, key, value)];
            assert!(check_gitmodules(&e).is_ok(), "{name} {key}={value} refused");
        }
        let other = ConfigEntry {
            section: "core".into(),
            ..entry("..", "url", "-x")
        };
        assert!(check_gitmodules(&[other]).is_ok());
    }

    #[test]
    fn commit_rules_follow_fsck_ident() {
        assert!(check_commit("ok", "A U Thor", "a@x").is_ok());
        assert!(check_commit("a\0b", "A", "a@x").is_err());
        assert!(check_commit("m", "A\0", "a@x").is_err());
        assert!(check_commit("m", "A", "a\0@x").is_err());
        assert!(check_commit("m", " ", "a@x").is_err());
        assert!(check_commit("m", "A <B", "a@x").is_err());
        assert!(check_commit("m", "A", "a>@x").is_err());
    }

    #[test]
    fn components_up_to_4096_bytes() {
        let ok = "a".repeat(4096);
        let long = "a".repeat(4097);
        assert!(check_path(ok.as_bytes().as_bstr()).is_ok());
        assert!(check_path(format!("d/{long}").as_bytes().as_bstr()).is_err());
    }

    #[test]
    fn special_dotfiles_must_be_plain_files() {
        for bad in [
            ".gitmodules",
            "a/.GITMODULES.",
            ".gitmodules:stream",
            "gitmod~1",
            "GI7EBA~1",
            "gi7eb~12",
            ".g\u{200c}itmodules",
            "x\\.gitmodules",
            ".gitattributes",
            ".gitignore",
            ".mailmap",
        ] {
            let p = bad.as_bytes().as_bstr();
            assert!(
                check_entry(p, FileMode::Symlink, None).is_err(),
                "{bad:?} accepted as a symlink"
            );
            assert!(check_entry(p, FileMode::Regular, None).is_ok(), "{bad:?}");
        }
        for good in [
            ".gitmodulesx",
            "gitmodules",
            ".gitmodule",
            "gitmod~5",
            "gi7eba",
        ] {
            let p = good.as_bytes().as_bstr();
            assert!(check_entry(p, FileMode::Symlink, None).is_ok(), "{good:?}");
        }
        let p = b".gitmodules".as_bstr();
        assert!(check_entry(p, FileMode::Gitlink, None).is_err());
        assert!(check_entry(b".gitignore".as_bstr(), FileMode::Gitlink, None).is_ok());
        let long = vec![b'x'; 2048];
        let attrs = b"a/.gitattributes".as_bstr();
        assert!(check_entry(attrs, FileMode::Regular, Some(&long)).is_err());
        assert!(check_entry(attrs, FileMode::Regular, Some(&long[1..])).is_ok());
    }
}
