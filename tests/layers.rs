//! The layer check: every `crate::…` and `super::…` path under `src/` must point to the file's
//! own unit or to a unit on a *lower* line of the order that `src/lib.rs` (and, inside the
//! browser code, `src/web/mod.rs`) documents under "# Layers". Units on one line never import
//! each other, so the order also rules out import circles between units.
//!
//! A unit is a top-level module of the crate (`kernels`, `engine`, …) or, inside `web`, one of
//! its modules (`web::worker`, `web::components`, …). Comments are ignored; `#[cfg(test)]`
//! modules are checked like the rest. Run alone with `cargo test --test layers`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

/// The numbered list under `# Layers` of a module doc: for each line, the backticked names
/// before its first " — " (a line may wrap onto the next before the dash).
fn documented_order(doc_file: &Path) -> Vec<Vec<String>> {
    let text = std::fs::read_to_string(doc_file).expect("read layer doc");
    let mut lines = Vec::new();
    let mut in_section = false;
    let mut current: Option<String> = None;
    for line in text.lines() {
        let Some(doc) = line.strip_prefix("//!") else {
            break;
        };
        let doc = doc.trim();
        if doc.starts_with('#') {
            in_section = doc.starts_with("# Layers");
            continue;
        }
        if !in_section {
            continue;
        }
        let numbered = doc
            .split_once(". ")
            .filter(|(n, _)| !n.is_empty() && n.chars().all(|c| c.is_ascii_digit()));
        match numbered {
            Some((_, rest)) => {
                lines.extend(current.take());
                current = Some(rest.to_string());
            }
            None if doc.is_empty() => lines.extend(current.take()),
            None => {
                if let Some(c) = current.as_mut() {
                    c.push(' ');
                    c.push_str(doc);
                }
            }
        }
    }
    lines.extend(current);
    lines
        .iter()
        .map(|l| {
            let head = l.split(" — ").next().unwrap_or("");
            head.split('`')
                .skip(1)
                .step_by(2)
                .map(str::to_string)
                .collect::<Vec<_>>()
        })
        .filter(|names| !names.is_empty())
        .collect()
}

/// Rank of every unit: `kernels` → 1, `web::worker` → 10.3, … (web's own order nested in web's).
struct Order {
    rank: BTreeMap<String, (usize, usize)>,
}

impl Order {
    fn load(src: &Path) -> Order {
        let top = documented_order(&src.join("lib.rs"));
        let web = documented_order(&src.join("web/mod.rs"));
        assert!(
            top.len() >= 5,
            "src/lib.rs documents no layer order: {top:?}"
        );
        assert!(
            web.len() >= 3,
            "src/web/mod.rs documents no layer order: {web:?}"
        );
        let mut rank = BTreeMap::new();
        for (i, names) in top.iter().enumerate() {
            for name in names {
                rank.insert(name.clone(), (i, 0));
            }
        }
        let web_rank = rank.get("web").expect("`web` is in the order").0;
        for (j, names) in web.iter().enumerate() {
            for name in names {
                rank.insert(format!("web::{name}"), (web_rank, j + 1));
            }
        }
        Order { rank }
    }

    fn rank_of(&self, unit: &str) -> Option<(usize, usize)> {
        self.rank.get(unit).copied()
    }
}

/// The module path of a source file: `src/web/worker/runs.rs` → `web::worker::runs`.
fn module_of(src: &Path, file: &Path) -> Vec<String> {
    let rel = file.strip_prefix(src).expect("file under src");
    let mut parts: Vec<String> = rel
        .iter()
        .map(|p| p.to_string_lossy().into_owned())
        .collect();
    let last = parts.pop().unwrap_or_default();
    let stem = last.trim_end_matches(".rs");
    if stem != "mod" && stem != "lib" {
        parts.push(stem.to_string());
    }
    parts
}

/// The unit an absolute module path belongs to (`None`: the crate root's own items).
fn unit_of(path: &[String]) -> Option<String> {
    let first = path.first()?;
    let lowercase = |s: &String| s.chars().next().is_some_and(|c| c.is_ascii_lowercase());
    if !lowercase(first) {
        // Items re-exported at the crate root: `crate::Error`, `crate::Result` are the error
        // type's; anything else there (`crate::VERSION`) is the root's own.
        return ["Error", "Result"]
            .contains(&first.as_str())
            .then(|| "error".to_string());
    }
    if first == "web" {
        return Some(match path.get(1).filter(|s| lowercase(s)) {
            Some(sub) => format!("web::{sub}"),
            None => "web".to_string(),
        });
    }
    Some(first.clone())
}

/// Source with `//` comments removed (string contents are kept: paths do not hide there).
fn strip_comments(text: &str) -> String {
    text.lines()
        .map(|l| match l.find("//") {
            Some(i) => &l[..i],
            None => l,
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// Every path that starts with `crate::` or `super::` (groups `{a::b, c}` expanded to the first
/// segment of each item), as written.
fn paths_in(code: &str) -> Vec<Vec<String>> {
    let bytes = code.as_bytes();
    let ident = |i: usize| -> (String, usize) {
        let mut j = i;
        while j < bytes.len() && (bytes[j].is_ascii_alphanumeric() || bytes[j] == b'_') {
            j += 1;
        }
        (code[i..j].to_string(), j)
    };
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        let boundary = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_');
        let starts = ["crate::", "super::"]
            .iter()
            .find(|p| boundary && bytes[i..].starts_with(p.as_bytes()));
        let Some(start) = starts else {
            i += 1;
            continue;
        };
        let mut segments = vec![start.trim_end_matches("::").to_string()];
        let mut j = i + start.len();
        loop {
            if bytes.get(j) == Some(&b'{') {
                // A group: the first segment of each top-level item.
                let mut depth = 0;
                let mut k = j;
                let mut item_start = j + 1;
                let mut items = Vec::new();
                while k < bytes.len() {
                    match bytes[k] {
                        b'{' => depth += 1,
                        b'}' => {
                            depth -= 1;
                            if depth == 0 {
                                items.push(code[item_start..k].to_string());
                                break;
                            }
                        }
                        b',' if depth == 1 => {
                            items.push(code[item_start..k].to_string());
                            item_start = k + 1;
                        }
                        _ => {}
                    }
                    k += 1;
                }
                for item in items {
                    let item = item.trim();
                    let first = item.split("::").next().unwrap_or("").trim();
                    if !first.is_empty() && first != "self" {
                        let mut p = segments.clone();
                        p.push(first.to_string());
                        out.push(p);
                    } else if first == "self" {
                        out.push(segments.clone());
                    }
                }
                segments.clear();
                j = k;
                break;
            }
            let (name, end) = ident(j);
            if name.is_empty() {
                break;
            }
            segments.push(name);
            j = end;
            if bytes[j..].starts_with(b"::") {
                j += 2;
            } else {
                break;
            }
        }
        if !segments.is_empty() {
            out.push(segments);
        }
        i = j.max(i + 1);
    }
    out
}

/// `path` as written in module `module` → absolute path from the crate root.
fn absolute(module: &[String], path: &[String]) -> Vec<String> {
    // `super` of a file `a/b.rs` (module a::b) is `a`; of `a/mod.rs` (module a) it is the root:
    // either way, the module path without its last segment.
    let mut base: Vec<String> = module.to_vec();
    let mut rest = path;
    if rest.first().map(String::as_str) == Some("crate") {
        return rest[1..].to_vec();
    }
    while rest.first().map(String::as_str) == Some("super") {
        base.pop();
        rest = &rest[1..];
    }
    base.extend(rest.iter().cloned());
    base
}

/// Every import against the order, as `file: unit → unit`.
fn violations(src: &Path, files: &[(PathBuf, String)], order: &Order) -> Vec<String> {
    let mut found = Vec::new();
    for (file, text) in files {
        let module = module_of(src, file);
        let Some(own) = unit_of(&module) else {
            continue; // lib.rs itself
        };
        let own_rank = order.rank_of(&own);
        if own_rank.is_none() {
            found.push(format!(
                "{}: unit `{own}` is not in the documented order",
                file.display()
            ));
            continue;
        }
        for path in paths_in(&strip_comments(text)) {
            let abs = absolute(&module, &path);
            let Some(target) = unit_of(&abs) else {
                continue;
            };
            if target == own || target == "web" {
                continue;
            }
            // Strictly lower; inside `web`, never a unit on the same top line as `web` (`cli`).
            let ok = matches!(
                (own_rank, order.rank_of(&target)),
                (Some(a), Some(b)) if b < a && !(b.0 == a.0 && b.1 == 0)
            );
            if !ok {
                found.push(format!(
                    "{}: `{own}` imports `{}` (unit `{target}`), which is not below it",
                    file.display(),
                    abs.join("::")
                ));
            }
        }
    }
    found
}

fn sources(dir: &Path, out: &mut Vec<(PathBuf, String)>) {
    let mut entries: Vec<_> = std::fs::read_dir(dir)
        .expect("read src")
        .map(|e| e.expect("entry").path())
        .collect();
    entries.sort();
    for path in entries {
        if path.is_dir() {
            if path.file_name().is_some_and(|n| n == "bin") {
                continue; // binaries use the library through `resnet_lab::`
            }
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let text = std::fs::read_to_string(&path).expect("read source");
            out.push((path, text));
        }
    }
}

fn src_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("src")
}

#[test]
fn every_import_points_to_a_lower_layer() {
    let src = src_dir();
    let order = Order::load(&src);
    let mut files = Vec::new();
    sources(&src, &mut files);
    assert!(files.len() > 50, "found only {} files", files.len());
    let found = violations(&src, &files, &order);
    assert!(
        found.is_empty(),
        "imports against the layer order of src/lib.rs and src/web/mod.rs:\n{}",
        found.join("\n")
    );
}

/// The check itself catches what it names: an upward import, a same-line import, one inside a
/// `use` group, and one through `super::`.
#[test]
fn the_check_catches_wrong_imports() {
    let src = src_dir();
    let order = Order::load(&src);
    let case = |file: &str, text: &str| {
        let files = vec![(src.join(file), text.to_string())];
        violations(&src, &files, &order)
    };
    assert!(!case("kernels/x.rs", "use crate::engine::Engine;").is_empty());
    assert!(!case("analysis/x.rs", "use crate::{job::Step, engine::Engine};").is_empty());
    assert!(!case("cli.rs", "use crate::web::state::Store;").is_empty());
    assert!(!case("web/protocol.rs", "use super::components::shell::Shell;").is_empty());
    assert!(!case("web/worker/x.rs", "use crate::web::state::Store;").is_empty());
    assert!(!case("job.rs", "fn f() -> crate::lang::Lang { todo!() }").is_empty());
    assert!(!case("web/query.rs", "use crate::cli::run;").is_empty());
    assert!(!case("model/x.rs", "use super::super::infer::FastConv;").is_empty());
    // And lets through what is allowed: lower layers, the own unit, comments.
    assert!(case("engine.rs", "use crate::analysis::explore::ExploreJob;").is_empty());
    assert!(case(
        "kernels/x.rs",
        "use super::gemm::WeightMatrix; use crate::Result;"
    )
    .is_empty());
    assert!(case("kernels/x.rs", "// see crate::engine::Engine").is_empty());
    assert!(case("web/components/x.rs", "use super::explore::Explore;").is_empty());
}
