//! The documentation stays true to the code: every config key of every
//! daemon is in docs/configuration.md with its environment variable and
//! its real default, and the Markdown files link only to files that exist.
#![allow(clippy::unwrap_used, clippy::expect_used)] // test code: a panic is a failed test

use std::path::{Path, PathBuf};

use satstore_service::config::{ServiceConfig, field_names};
use toml::{Table, Value};

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

/// The table rows (cells) of the `## {section}` part of a Markdown file.
fn rows(doc: &str, section: &str) -> Vec<Vec<String>> {
    let mut inside = false;
    let mut out = Vec::new();
    for line in doc.lines() {
        if let Some(h) = line.strip_prefix("## ") {
            inside = h.split_whitespace().next() == Some(section);
            continue;
        }
        if inside && line.starts_with("| `") {
            out.push(
                line.trim()
                    .trim_matches('|')
                    .split('|')
                    .map(|c| c.trim().to_string())
                    .collect(),
            );
        }
    }
    out
}

/// Whether the documented default `cell` means the same value as the
/// code's default for `key` (checked by loading it over the defaults).
fn same_default<T: ServiceConfig + PartialEq>(key: &str, cell: &str) -> bool {
    let defaults = Table::try_from(T::default()).unwrap();
    let Some(real) = defaults.get(key) else {
        return true; // an unset optional key: the doc describes it in words
    };
    if real.is_table() {
        return true; // a table's default is spelled out key by key in prose
    }
    let text = cell.trim_matches('`');
    let candidate = match real {
        Value::String(_) => Value::String(text.to_string()),
        _ => match format!("v = {text}").parse::<Table>() {
            Ok(mut t) => t.remove("v").unwrap(),
            Err(_) => return false,
        },
    };
    let mut table = defaults.clone();
    table.insert(key.to_string(), candidate);
    Value::Table(table)
        .try_into::<T>()
        .is_ok_and(|parsed| parsed == T::default())
}

fn check_config<T: ServiceConfig + PartialEq>(section: &str) {
    let doc = std::fs::read_to_string(root().join("docs/configuration.md")).unwrap();
    let rows = rows(&doc, section);
    for key in field_names::<T>() {
        let row = rows
            .iter()
            .find(|r| r[0] == format!("`{key}`"))
            .unwrap_or_else(|| panic!("docs/configuration.md ## {section} lacks key `{key}`"));
        let env = format!("{}_{}", T::ENV_PREFIX, key.to_ascii_uppercase());
        assert!(
            row[2].contains(&env) || row[2].contains(&format!("{env}_")),
            "## {section} `{key}`: env column {:?} lacks {env}",
            row[2]
        );
        assert!(
            same_default::<T>(key, &row[1]),
            "## {section} `{key}`: documented default {:?} is not the code's",
            row[1]
        );
    }
    for row in &rows {
        let key = row[0].trim_matches('`');
        assert!(
            field_names::<T>().contains(&key),
            "## {section} documents `{key}`, which the config does not have"
        );
    }
}

#[test]
fn every_config_key_is_documented_with_env_and_default() {
    check_config::<satellite::SatelliteConfig>("satellite");
    check_config::<storagenode::StorageNodeConfig>("storagenode");
    check_config::<gateway::GatewayConfig>("gateway");
}

#[test]
fn markdown_links_point_to_files_that_exist() {
    let mut files = vec![root().join("README.md"), root().join("ARCHITECTURE.md")];
    for entry in std::fs::read_dir(root().join("docs")).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    for entry in std::fs::read_dir(root().join("docs/adr"))
        .into_iter()
        .flatten()
    {
        let path = entry.unwrap().path();
        if path.extension().is_some_and(|e| e == "md") {
            files.push(path);
        }
    }
    let mut checked = 0;
    for file in files {
        let text = std::fs::read_to_string(&file).unwrap();
        let dir = file.parent().unwrap();
        for (i, _) in text.match_indices("](") {
            let rest = &text[i + 2..];
            let Some(end) = rest.find(')') else { continue };
            let target = rest[..end].split('#').next().unwrap_or_default();
            if target.is_empty() || target.contains("://") || target.starts_with("mailto:") {
                continue;
            }
            assert!(
                dir.join(target).exists(),
                "{} links to {target}, which does not exist",
                file.display()
            );
            checked += 1;
        }
    }
    assert!(checked > 5, "found only {checked} relative links");
}
