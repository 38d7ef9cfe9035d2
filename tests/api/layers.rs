//! The layers point one way (docs/architecture.md): this reads the source
//! and fails when a lower layer imports a higher one, when a service
//! imports `http`, when `http` names a `db` type, or when two services
//! import each other (directly or round a loop).

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn rust_files(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            out.extend(rust_files(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
    out
}

/// A file's code without its `#[cfg(test)]` module and `//` comments.
fn code_of(path: &Path) -> String {
    let text = std::fs::read_to_string(path).unwrap();
    let text = match text.find("#[cfg(test)]\nmod tests") {
        Some(i) => &text[..i],
        None => &text,
    };
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn src() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

/// Every `crate::a` (and `crate::{a, b}`) a file names: the top modules,
/// or with `under`, the modules below `crate::<under>::`.
fn named(code: &str, under: Option<&str>) -> BTreeSet<String> {
    let prefix = match under {
        Some(u) => format!("crate::{u}::"),
        None => "crate::".to_string(),
    };
    let mut out = BTreeSet::new();
    let mut rest = code;
    while let Some(i) = rest.find(&prefix) {
        rest = &rest[i + prefix.len()..];
        if let Some(group) = rest.strip_prefix('{') {
            let end = group.find('}').unwrap_or(group.len());
            for item in group[..end].split(',') {
                let name = item.trim().split("::").next().unwrap_or("").trim();
                if !name.is_empty() && name != "self" {
                    out.insert(name.to_string());
                }
            }
        } else {
            let name: String = rest
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

#[test]
fn lower_layers_never_import_higher_ones() {
    let higher = ["services", "http", "jobs", "state", "startup", "cli"];
    let mut wrong = Vec::new();
    for layer in ["db", "providers", "domain", "config", "crypto"] {
        let dir = src().join(layer);
        let files = if dir.is_dir() {
            rust_files(&dir)
        } else {
            vec![src().join(format!("{layer}.rs"))]
        };
        for f in files {
            for m in named(&code_of(&f), None) {
                if higher.contains(&m.as_str()) {
                    wrong.push(format!("{} imports crate::{m}", f.display()));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn the_error_type_knows_nothing_of_http() {
    let code = code_of(&src().join("error.rs"));
    assert!(!code.contains("axum"), "src/error.rs uses axum");
}

#[test]
fn services_never_import_http_and_http_never_names_db() {
    let mut wrong = Vec::new();
    for f in rust_files(&src().join("services")) {
        for m in named(&code_of(&f), None) {
            if ["http", "startup", "cli", "jobs"].contains(&m.as_str()) {
                wrong.push(format!("{} imports crate::{m}", f.display()));
            }
        }
    }
    for f in rust_files(&src().join("http")) {
        let code = code_of(&f);
        for m in named(&code, None) {
            if ["db", "repos"].contains(&m.as_str()) {
                wrong.push(format!("{} names crate::{m}", f.display()));
            }
        }
        if code.contains("state.db") {
            wrong.push(format!("{} uses the database directly", f.display()));
        }
    }
    assert!(wrong.is_empty(), "{wrong:#?}");
}

#[test]
fn services_depend_on_one_another_in_one_direction() {
    // capability -> the capabilities it imports
    let mut deps: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for entry in std::fs::read_dir(src().join("services")).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_stem().unwrap().to_string_lossy().to_string();
        if name == "mod" {
            continue;
        }
        let files = if path.is_dir() {
            rust_files(&path)
        } else {
            vec![path.clone()]
        };
        let mut uses = BTreeSet::new();
        for f in files {
            uses.extend(named(&code_of(&f), Some("services")));
        }
        uses.remove(&name);
        deps.insert(name, uses);
    }
    // No capability reaches itself again.
    for start in deps.keys() {
        let mut seen = BTreeSet::new();
        let mut todo: Vec<&String> = deps[start].iter().collect();
        while let Some(next) = todo.pop() {
            assert_ne!(
                next, start,
                "services import each other round a loop through {start}: {deps:#?}"
            );
            if seen.insert(next.clone()) {
                if let Some(more) = deps.get(next) {
                    todo.extend(more.iter());
                }
            }
        }
    }
    // The order DESIGN.md states: sessions → payments → outreach → mail,
    // with accounts under all of them.
    for (lower, higher) in [
        ("payments", "sessions"),
        ("mail", "outreach"),
        ("mail", "payments"),
        ("mail", "sessions"),
        ("outreach", "sessions"),
        ("accounts", "mail"),
        ("accounts", "outreach"),
        ("accounts", "signup"),
    ] {
        assert!(
            !deps[lower].contains(higher),
            "{lower} imports {higher}, which sits above it"
        );
    }
}
