//! Environment variables as config values: which key a variable names and
//! how its text becomes a typed value (the default's type decides).

use toml::{Table, Value};

use super::{ConfigError, ServiceConfig, Source, decode, set_path};

/// The process's variables that start with `PREFIX_`; one that is not
/// valid UTF-8 is refused by name.
pub(super) fn process_vars(prefix: &str) -> Result<Vec<(String, String)>, ConfigError> {
    let wanted = format!("{prefix}_");
    let mut out = Vec::new();
    for (name, value) in std::env::vars_os() {
        let Some(name) = name.to_str().map(str::to_string) else {
            continue;
        };
        if !name.starts_with(&wanted) {
            continue;
        }
        match value.into_string() {
            Ok(v) => out.push((name, v)),
            Err(_) => {
                return Err(ConfigError::Invalid {
                    key: name[wanted.len()..].to_ascii_lowercase(),
                    origin: Source::Env(name),
                    message: "the value is not valid UTF-8".into(),
                });
            }
        }
    }
    out.sort();
    Ok(out)
}

/// The key path a variable names (`DATA_DIR` -> `data_dir`,
/// `REDUNDANCY_SHARE_SIZE` -> `redundancy.share_size`), or `None`.
pub(super) fn key_path(rest: &str, known: &[&str], defaults: &Table) -> Option<Vec<String>> {
    let lower = rest.to_ascii_lowercase();
    if known.contains(&lower.as_str()) {
        return Some(vec![lower]);
    }
    for (key, value) in defaults {
        let Value::Table(inner) = value else { continue };
        if let Some(sub) = lower.strip_prefix(&format!("{key}_"))
            && inner.contains_key(sub)
        {
            return Some(vec![key.clone(), sub.to_string()]);
        }
    }
    None
}

/// Turns the variable's text into the type of the default at `path`;
/// without a default (an unset optional key) the text is tried as a
/// string, then as a TOML value.
pub(super) fn typed_value<T: ServiceConfig>(
    raw: &str,
    path: &[String],
    defaults: &Table,
) -> Result<Value, String> {
    match lookup(defaults, path) {
        Some(default) => parse_like(raw, default),
        None => {
            let as_string = Value::String(raw.to_string());
            let mut probe = defaults.clone();
            set_path(&mut probe, path, as_string.clone());
            if decode::<T>(probe).is_ok() {
                return Ok(as_string);
            }
            Ok(literal(raw).unwrap_or(as_string))
        }
    }
}

fn lookup<'a>(table: &'a Table, path: &[String]) -> Option<&'a Value> {
    let (first, rest) = path.split_first()?;
    let v = table.get(first)?;
    if rest.is_empty() {
        Some(v)
    } else {
        match v {
            Value::Table(t) => lookup(t, rest),
            _ => None,
        }
    }
}

/// `raw` parsed as the same TOML type as `like`.
fn parse_like(raw: &str, like: &Value) -> Result<Value, String> {
    let t = raw.trim();
    match like {
        Value::String(_) | Value::Datetime(_) => Ok(Value::String(raw.to_string())),
        Value::Integer(_) => t
            .parse::<i64>()
            .map(Value::Integer)
            .map_err(|_| format!("expected a whole number, got {raw:?}")),
        Value::Float(_) => t
            .parse::<f64>()
            .map(Value::Float)
            .map_err(|_| format!("expected a number, got {raw:?}")),
        Value::Boolean(_) => match t.to_ascii_lowercase().as_str() {
            "1" | "true" | "yes" | "on" => Ok(Value::Boolean(true)),
            "0" | "false" | "no" | "off" | "" => Ok(Value::Boolean(false)),
            _ => Err(format!("expected true or false, got {raw:?}")),
        },
        Value::Array(items) => {
            let element = items
                .first()
                .cloned()
                .unwrap_or(Value::String(String::new()));
            t.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(|s| parse_like(s, &element))
                .collect::<Result<Vec<_>, _>>()
                .map(Value::Array)
        }
        Value::Table(_) => literal(&format!("{{{t}}}"))
            .or_else(|| literal(t))
            .ok_or_else(|| {
                format!("expected an inline TOML table such as a = 1, b = 2, got {raw:?}")
            }),
    }
}

/// `raw` as a TOML value literal (`5`, `true`, `[1, 2]`, `{ a = 1 }`).
fn literal(raw: &str) -> Option<Value> {
    format!("v = {raw}")
        .parse::<Table>()
        .ok()
        .and_then(|mut t| t.remove("v"))
}
