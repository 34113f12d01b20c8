//! The folder tree is the data flow (see src/lib.rs): each stage uses only the stages
//! below it, and a subcommand's module uses no other subcommand's. Read from the
//! sources, so that a new `use` that climbs up fails here with its file and line.

use std::path::{Path, PathBuf};

/// The layers from the bottom; a file may name its own layer and those before it.
/// `error` gathers every stage's error type and is named by all.
const LAYERS: &[&[&str]] = &[
    &[
        "repo",
        "http",
        "transport",
        "proxy_env",
        "interrupt",
        "state_file",
        "output",
        "exit",
    ],
    &["config"],
    &["input"],
    &["apply"],
    &["ci"],
    &["publish"],
    &["report"],
    &["flow"],
    &["cmd"],
];

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top module a file of src/ belongs to (`src/input/mail.rs` -> `input`).
fn top_module(path: &Path) -> String {
    let rel = path.strip_prefix(src()).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_string_lossy();
    first.trim_end_matches(".rs").to_owned()
}

fn layer_of(module: &str) -> Option<usize> {
    LAYERS.iter().position(|l| l.contains(&module))
}

/// Every `crate::<module>` a line names outside comments.
fn named_modules(line: &str) -> Vec<String> {
    let code = line.split("//").next().unwrap_or("");
    code.match_indices("crate::")
        .map(|(i, _)| {
            code[i + "crate::".len()..]
                .chars()
                .take_while(|c| c.is_ascii_alphanumeric() || *c == '_')
                .collect()
        })
        .collect()
}

#[test]
fn each_stage_uses_only_the_stages_below_it() {
    let mut files = Vec::new();
    rust_files(&src(), &mut files);
    let mut climbs = Vec::new();
    for file in &files {
        let own = top_module(file);
        let Some(own_layer) = layer_of(&own) else {
            continue; // lib.rs, main.rs, error.rs
        };
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            for named in named_modules(line) {
                if let Some(layer) = layer_of(&named) {
                    if layer > own_layer {
                        climbs.push(format!("{}:{}: {own} uses {named}", file.display(), n + 1));
                    }
                }
            }
        }
    }
    assert!(
        files.len() > 40,
        "the sources were not found: {}",
        src().display()
    );
    assert!(
        climbs.is_empty(),
        "uses that climb up the stages:\n{}",
        climbs.join("\n")
    );
}

#[test]
fn no_subcommand_uses_another_subcommands_module() {
    let dir = src().join("cmd");
    let mut files = Vec::new();
    rust_files(&dir, &mut files);
    let subcommands: Vec<String> = files
        .iter()
        .map(|f| f.file_stem().unwrap().to_string_lossy().into_owned())
        .filter(|name| name != "mod")
        .collect();
    assert!(subcommands.len() >= 8, "{subcommands:?}");
    let mut found = Vec::new();
    for file in &files {
        let own = file.file_stem().unwrap().to_string_lossy().into_owned();
        let text = std::fs::read_to_string(file).unwrap();
        for (n, line) in text.lines().enumerate() {
            let code = line.split("//").next().unwrap_or("");
            for other in subcommands.iter().filter(|s| **s != own) {
                let named = [
                    format!("crate::cmd::{other}"),
                    format!("super::{other}"),
                    format!("cmd::{other}::"),
                ];
                if named.iter().any(|p| code.contains(p.as_str())) {
                    found.push(format!("{}:{}: uses cmd::{other}", file.display(), n + 1));
                }
            }
        }
    }
    assert!(found.is_empty(), "{}", found.join("\n"));
}
