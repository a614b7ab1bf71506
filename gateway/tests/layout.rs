//! The gateway's modules form no import cycle: for every module, its
//! child modules depend on one another without a circle, and so do the
//! crate's top-level modules. A `use` or path from module `a::b::x` to
//! `a::c::y` counts as `a::b` depending on `a::c` (their sibling
//! ancestors); a module using its own ancestor or descendant is
//! containment, not a dependency between peers. Test code is left out.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::collections::{BTreeMap, BTreeSet};
use std::path::Path;

/// A module's path from the crate root (empty: the crate root).
type ModPath = Vec<String>;

/// Every module file of the library under `src` with its source.
fn modules(src: &Path) -> BTreeMap<ModPath, String> {
    let mut out = BTreeMap::new();
    let mut stack = vec![src.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in std::fs::read_dir(&dir).unwrap() {
            let path = entry.unwrap().path();
            if path.is_dir() {
                stack.push(path);
                continue;
            }
            if path.extension().is_none_or(|e| e != "rs") {
                continue;
            }
            let rel = path.strip_prefix(src).unwrap();
            if rel == Path::new("main.rs") {
                continue; // the binary, not the library
            }
            let mut parts: ModPath = rel
                .with_extension("")
                .components()
                .map(|c| c.as_os_str().to_string_lossy().into_owned())
                .collect();
            if matches!(parts.last().map(String::as_str), Some("mod" | "lib")) {
                parts.pop();
            }
            out.insert(parts, std::fs::read_to_string(&path).unwrap());
        }
    }
    out
}

/// Source with comments, string and char literals and `#[cfg(test)]`
/// items removed.
fn code_of(source: &str) -> String {
    let b = source.as_bytes();
    let mut out = String::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        match b[i] {
            b'/' if b.get(i + 1) == Some(&b'/') => {
                while i < b.len() && b[i] != b'\n' {
                    i += 1;
                }
            }
            b'/' if b.get(i + 1) == Some(&b'*') => {
                let end = source[i + 2..]
                    .find("*/")
                    .map_or(b.len(), |e| i + 2 + e + 2);
                i = end;
            }
            b'r' if (b.get(i + 1) == Some(&b'"') || b.get(i + 1) == Some(&b'#'))
                && (i == 0 || !(b[i - 1].is_ascii_alphanumeric() || b[i - 1] == b'_')) =>
            {
                // Raw string: r"..." or r#"..."#.
                let mut j = i + 1;
                let mut hashes = 0;
                while b.get(j) == Some(&b'#') {
                    hashes += 1;
                    j += 1;
                }
                if b.get(j) != Some(&b'"') {
                    out.push('r');
                    i += 1;
                    continue;
                }
                let close = format!("\"{}", "#".repeat(hashes));
                i = source[j + 1..]
                    .find(&close)
                    .map_or(b.len(), |e| j + 1 + e + close.len());
                out.push_str("\"\"");
            }
            b'"' => {
                i += 1;
                while i < b.len() && b[i] != b'"' {
                    i += if b[i] == b'\\' { 2 } else { 1 };
                }
                i += 1;
                out.push_str("\"\"");
            }
            b'\'' => {
                // A char literal ('x', '\n', '\u{..}') or a lifetime.
                let rest = &source[i + 1..];
                let lit = if rest.starts_with('\\') {
                    rest.get(2..).and_then(|r| r.find('\'')).map(|e| e + 4)
                } else {
                    let mut chars = rest.chars();
                    let c = chars.next().map_or(0, char::len_utf8);
                    (rest[c..].starts_with('\'')).then_some(c + 2)
                };
                match lit {
                    Some(n) => {
                        i += n;
                        out.push_str("' '");
                    }
                    None => {
                        out.push('\'');
                        i += 1;
                    }
                }
            }
            _ => {
                let c = source[i..].chars().next().unwrap();
                out.push(c);
                i += c.len_utf8();
            }
        }
    }
    strip_test_items(&out)
}

/// Removes every item under `#[cfg(test)]` (up to its `;` or the end of
/// its braces).
fn strip_test_items(code: &str) -> String {
    let mut out = String::new();
    let mut rest = code;
    while let Some(at) = rest.find("#[cfg(test)]") {
        out.push_str(&rest[..at]);
        let item = &rest[at..];
        let mut depth = 0usize;
        let mut end = item.len();
        for (k, c) in item.char_indices() {
            match c {
                '{' => depth += 1,
                '}' => {
                    depth = depth.saturating_sub(1);
                    if depth == 0 {
                        end = k + 1;
                        break;
                    }
                }
                ';' if depth == 0 => {
                    end = k + 1;
                    break;
                }
                _ => {}
            }
        }
        rest = &item[end..];
    }
    out.push_str(rest);
    out
}

/// Tokens: identifiers, `::`, and single punctuation characters.
fn tokens(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut chars = code.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() || c == '_' {
            let mut end = i + c.len_utf8();
            while let Some(&(j, d)) = chars.peek() {
                if d.is_alphanumeric() || d == '_' {
                    end = j + d.len_utf8();
                    chars.next();
                } else {
                    break;
                }
            }
            out.push(code[i..end].to_string());
        } else if c == ':' && chars.peek().map(|&(_, d)| d) == Some(':') {
            chars.next();
            out.push("::".to_string());
        } else if !c.is_whitespace() {
            out.push(c.to_string());
        }
    }
    out
}

/// The paths a `use` tree names, from `toks[start]` up to its `;`;
/// returns them and the index after the `;`.
fn use_paths(toks: &[String], start: usize) -> (Vec<Vec<String>>, usize) {
    fn tree(toks: &[String], mut i: usize, prefix: &[String], out: &mut Vec<Vec<String>>) -> usize {
        let mut path = prefix.to_vec();
        loop {
            match toks.get(i).map(String::as_str) {
                Some("{") => {
                    // `a::{self, b}`: the group's prefix itself is named.
                    if path.len() > prefix.len() {
                        out.push(path.clone());
                    }
                    i += 1;
                    loop {
                        match toks.get(i).map(String::as_str) {
                            Some("}") => return i + 1,
                            Some(",") => i += 1,
                            None => return i,
                            _ => i = tree(toks, i, &path, out),
                        }
                    }
                }
                Some("::") => i += 1,
                Some("as") => i += 2,
                Some("," | "}" | ";") | None => {
                    if path.len() > prefix.len() {
                        out.push(path);
                    }
                    return i;
                }
                Some(t) => {
                    if t != "self" || path.is_empty() {
                        path.push(t.to_string());
                    }
                    i += 1;
                }
            }
        }
    }
    let mut out = Vec::new();
    let mut i = tree(toks, start, &[], &mut out);
    while toks.get(i).is_some_and(|t| t != ";") {
        i += 1;
    }
    (out, i + 1)
}

/// Every path module `at` names: `use` trees, and paths in code that
/// start at `crate`, `super`, `self` or one of its child modules.
fn named_paths(code: &str, children: &BTreeSet<String>) -> Vec<Vec<String>> {
    let toks = tokens(code);
    let mut out = Vec::new();
    let mut i = 0;
    while i < toks.len() {
        if toks[i] == "use" {
            let (paths, next) = use_paths(&toks, i + 1);
            out.extend(paths);
            i = next;
            continue;
        }
        let starts =
            matches!(toks[i].as_str(), "crate" | "super" | "self") || children.contains(&toks[i]);
        let after_path = i > 0 && toks[i - 1] == "::";
        if starts && !after_path && toks.get(i + 1).is_some_and(|t| t == "::") {
            let mut path = vec![toks[i].clone()];
            let mut j = i + 1;
            while toks.get(j).is_some_and(|t| t == "::")
                && toks
                    .get(j + 1)
                    .is_some_and(|t| t.chars().all(|c| c.is_alphanumeric() || c == '_'))
            {
                path.push(toks[j + 1].clone());
                j += 2;
            }
            out.push(path);
            i = j;
            continue;
        }
        i += 1;
    }
    out
}

/// The module a path names from module `at` (the longest known prefix),
/// or `None` for paths into other crates.
fn resolve(
    at: &ModPath,
    path: &[String],
    children: &BTreeSet<String>,
    known: &BTreeMap<ModPath, String>,
) -> Option<ModPath> {
    let (mut base, rest): (ModPath, &[String]) = match path.first().map(String::as_str) {
        Some("crate") => (Vec::new(), &path[1..]),
        Some("self") => (at.clone(), &path[1..]),
        Some("super") => {
            let mut base = at.clone();
            let mut k = 0;
            while path.get(k).is_some_and(|s| s == "super") {
                base.pop();
                k += 1;
            }
            (base, &path[k..])
        }
        Some(first) if children.contains(first) => (at.clone(), path),
        _ => return None,
    };
    for seg in rest {
        let mut next = base.clone();
        next.push(seg.clone());
        if known.contains_key(&next) {
            base = next;
        } else {
            break;
        }
    }
    Some(base)
}

/// The edge between sibling ancestors of `from` and `to`, if they are not
/// one inside the other.
fn peers(from: &ModPath, to: &ModPath) -> Option<(ModPath, ModPath)> {
    let common = from.iter().zip(to).take_while(|(a, b)| a == b).count();
    if common == from.len() || common == to.len() {
        return None;
    }
    Some((from[..=common].to_vec(), to[..=common].to_vec()))
}

/// The dependency edges between peer modules, each with one example of
/// what makes it.
fn edges(known: &BTreeMap<ModPath, String>) -> BTreeMap<(ModPath, ModPath), String> {
    let mut out = BTreeMap::new();
    for (at, source) in known {
        let code = code_of(source);
        let toks = tokens(&code);
        let children: BTreeSet<String> = toks
            .windows(3)
            .filter(|w| w[0] == "mod" && w[2] == ";")
            .map(|w| w[1].clone())
            .collect();
        for path in named_paths(&code, &children) {
            let Some(to) = resolve(at, &path, &children, known) else {
                continue;
            };
            if let Some(edge) = peers(at, &to) {
                out.entry(edge)
                    .or_insert_with(|| format!("{} names {}", show(at), path.join("::")));
            }
        }
    }
    out
}

fn show(m: &ModPath) -> String {
    if m.is_empty() {
        "crate".to_string()
    } else {
        m.join("::")
    }
}

/// A cycle of the graph, if it has one.
fn find_cycle(graph: &BTreeMap<ModPath, BTreeSet<ModPath>>) -> Option<Vec<ModPath>> {
    #[derive(Clone, Copy, PartialEq)]
    enum Mark {
        Open,
        Done,
    }
    fn visit(
        node: &ModPath,
        graph: &BTreeMap<ModPath, BTreeSet<ModPath>>,
        marks: &mut BTreeMap<ModPath, Mark>,
        stack: &mut Vec<ModPath>,
    ) -> Option<Vec<ModPath>> {
        match marks.get(node) {
            Some(Mark::Done) => return None,
            Some(Mark::Open) => {
                let from = stack.iter().position(|n| n == node).unwrap_or(0);
                let mut cycle = stack[from..].to_vec();
                cycle.push(node.clone());
                return Some(cycle);
            }
            None => {}
        }
        marks.insert(node.clone(), Mark::Open);
        stack.push(node.clone());
        for next in graph.get(node).into_iter().flatten() {
            if let Some(c) = visit(next, graph, marks, stack) {
                return Some(c);
            }
        }
        stack.pop();
        marks.insert(node.clone(), Mark::Done);
        None
    }
    let mut marks = BTreeMap::new();
    for node in graph.keys() {
        if let Some(c) = visit(node, graph, &mut marks, &mut Vec::new()) {
            return Some(c);
        }
    }
    None
}

/// The graph of `edges`.
fn graph_of(edges: &BTreeMap<(ModPath, ModPath), String>) -> BTreeMap<ModPath, BTreeSet<ModPath>> {
    let mut graph: BTreeMap<ModPath, BTreeSet<ModPath>> = BTreeMap::new();
    for (from, to) in edges.keys() {
        graph.entry(from.clone()).or_default().insert(to.clone());
    }
    graph
}

#[test]
fn the_gateway_modules_import_one_another_without_cycles() {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let known = modules(&src);
    for m in [
        ["ops"].as_slice(),
        &["ops", "get"],
        &["s3error"],
        &["http", "cors"],
    ] {
        let m: ModPath = m.iter().map(|s| s.to_string()).collect();
        assert!(known.contains_key(&m), "module {} not found", show(&m));
    }
    let edges = edges(&known);
    // The walk sees real dependencies (so an empty graph cannot pass).
    for (from, to) in [
        (["ops"], ["state"]),
        (["http"], ["state"]),
        (["state"], ["store"]),
    ] {
        let key = (
            from.iter().map(|s| s.to_string()).collect(),
            to.iter().map(|s| s.to_string()).collect(),
        );
        assert!(edges.contains_key(&key), "no edge {from:?} -> {to:?}");
    }
    if let Some(cycle) = find_cycle(&graph_of(&edges)) {
        let steps: Vec<String> = cycle
            .windows(2)
            .map(|w| {
                edges
                    .get(&(w[0].clone(), w[1].clone()))
                    .cloned()
                    .unwrap_or_default()
            })
            .collect();
        panic!(
            "import cycle {}:\n  {}",
            cycle.iter().map(show).collect::<Vec<_>>().join(" -> "),
            steps.join("\n  ")
        );
    }
}

#[test]
fn the_walk_finds_cycles_and_ignores_containment() {
    let m = |s: &str| -> ModPath {
        if s.is_empty() {
            Vec::new()
        } else {
            s.split("::").map(str::to_string).collect()
        }
    };
    let known: BTreeMap<ModPath, String> = [
        ("", "mod a; mod b; mod c; pub use a::X;"),
        ("a", "use crate::b::{self, Y as Z};\npub struct X;"),
        (
            "b",
            "mod inner;\n// use crate::c::Nope;\nfn f() { let s = \"crate::c::No\"; crate::c::g(); inner::h(); }",
        ),
        ("b::inner", "use super::super::a; pub fn h() {}"),
        (
            "c",
            "pub fn g() {}\n#[cfg(test)]\nmod tests { use crate::a::X; }",
        ),
    ]
    .into_iter()
    .map(|(k, v)| (m(k), v.to_string()))
    .collect();
    let edges = edges(&known);
    let pairs: BTreeSet<(String, String)> = edges.keys().map(|(a, b)| (show(a), show(b))).collect();
    let want: BTreeSet<(String, String)> = [("a", "b"), ("b", "c"), ("b", "a")]
        .into_iter()
        .map(|(a, b)| (a.to_string(), b.to_string()))
        .collect();
    // The crate root re-exporting a (containment), b using its child, the
    // comment, the string and c's test code add nothing.
    assert_eq!(pairs, want);
    let cycle = find_cycle(&graph_of(&edges)).expect("a -> b -> a");
    assert!(
        cycle.contains(&m("a")) && cycle.contains(&m("b")),
        "{cycle:?}"
    );
}
