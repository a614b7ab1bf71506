//! Layered daemon configuration: defaults, then a TOML file, then
//! `PREFIX_*` environment variables, then command-line flags. Every key of
//! the config struct is reachable at every layer; a key no layer knows is
//! refused with its name and where it came from, and so is a value that
//! does not parse or that the config's own check refuses.

mod env;
mod fields;

use std::collections::HashMap;
use std::fmt;
use std::path::{Path, PathBuf};

use serde::Serialize;
use serde::de::DeserializeOwned;
use toml::{Table, Value};

pub use fields::field_names;

/// A daemon's config struct: serde with `#[serde(default,
/// deny_unknown_fields)]`, a `Default`, and the environment prefix of its
/// keys.
pub trait ServiceConfig: Serialize + DeserializeOwned + Default {
    /// Environment prefix without the underscore, e.g. `SATELLITE`: key
    /// `data_dir` is read from `SATELLITE_DATA_DIR`, key `share_size` of
    /// table `redundancy` from `SATELLITE_REDUNDANCY_SHARE_SIZE`.
    const ENV_PREFIX: &'static str;
    /// Variables with the prefix that are not config keys (the part after
    /// the prefix), such as `CONFIG` naming the config file.
    const ENV_RESERVED: &'static [&'static str] = &["CONFIG"];

    /// Refuses values that parse but would make the daemon misbehave,
    /// naming the key.
    fn check(&self) -> Result<(), InvalidValue> {
        Ok(())
    }
}

/// A value a config's [`ServiceConfig::check`] refuses.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{key}: {message}")]
pub struct InvalidValue {
    /// The top-level key at fault.
    pub key: String,
    /// What is wrong and what would be right.
    pub message: String,
}

impl InvalidValue {
    /// An invalid value of `key`.
    pub fn new(key: impl Into<String>, message: impl Into<String>) -> Self {
        InvalidValue {
            key: key.into(),
            message: message.into(),
        }
    }
}

/// Where a config value came from.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Source {
    /// The built-in default.
    Default,
    /// The TOML file.
    File(PathBuf),
    /// An environment variable (its name).
    Env(String),
    /// A command-line flag (its name with the dashes).
    Flag(String),
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Source::Default => f.write_str("the default"),
            Source::File(p) => write!(f, "config file {}", p.display()),
            Source::Env(name) => write!(f, "environment variable {name}"),
            Source::Flag(name) => write!(f, "flag {name}"),
        }
    }
}

/// Why a config could not be loaded. Every variant names the file,
/// variable or flag at fault; binaries exit with code 2 on it.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The config file could not be read.
    #[error("read config file {}: {cause}", path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The cause.
        cause: std::io::Error,
    },
    /// The config file is not valid TOML.
    #[error("config file {} line {line}: {message}", path.display())]
    Syntax {
        /// The file.
        path: PathBuf,
        /// 1-based line of the error.
        line: usize,
        /// What the parser says.
        message: String,
    },
    /// A key this daemon does not have.
    #[error("unknown config key `{key}` in {origin}")]
    UnknownKey {
        /// The key as written.
        key: String,
        /// Where it was written.
        origin: Source,
    },
    /// A value that does not parse, or that the daemon refuses.
    #[error("invalid config key `{key}` from {origin}: {message}")]
    Invalid {
        /// The key.
        key: String,
        /// Where the value came from.
        origin: Source,
        /// What is wrong.
        message: String,
    },
}

/// Values given as command-line flags, the top layer. A flag left out
/// (`None`, or a boolean switch not given) leaves the lower layers alone.
#[derive(Debug, Default)]
pub struct Flags {
    values: Vec<(String, String, Result<Value, String>)>,
}

impl Flags {
    /// No flags.
    pub fn new() -> Self {
        Self::default()
    }

    /// Sets `key` from flag `--key-with-dashes` when `value` is given.
    pub fn set<V: Serialize>(mut self, key: &str, value: Option<V>) -> Self {
        if let Some(v) = value {
            let flag = format!("--{}", key.replace('_', "-"));
            let value = Value::try_from(v).map_err(|e| e.to_string());
            self.values.push((key.to_string(), flag, value));
        }
        self
    }

    /// Sets boolean `key` to true when the switch was given.
    pub fn switch(self, key: &str, given: bool) -> Self {
        self.set(key, given.then_some(true))
    }

    /// Sets `key` from a repeatable flag when it was given at least once.
    pub fn list<V: Serialize>(self, key: &str, values: Vec<V>) -> Self {
        let given = (!values.is_empty()).then_some(values);
        self.set(key, given)
    }
}

/// Loads `T` from its defaults, `file` (or, without one, the file named by
/// `PREFIX_CONFIG`), the process environment and `flags`, then checks it.
pub fn load<T: ServiceConfig>(file: Option<&Path>, flags: Flags) -> Result<T, ConfigError> {
    let vars = env::process_vars(T::ENV_PREFIX)?;
    let from_env = vars
        .iter()
        .find(|(name, _)| *name == format!("{}_CONFIG", T::ENV_PREFIX))
        .map(|(_, path)| PathBuf::from(path));
    load_from(file.or(from_env.as_deref()), vars, flags)
}

/// [`load`] with the environment given explicitly (tests, embedding).
pub fn load_from<T: ServiceConfig>(
    file: Option<&Path>,
    env: Vec<(String, String)>,
    flags: Flags,
) -> Result<T, ConfigError> {
    let defaults = Table::try_from(T::default()).map_err(|e| ConfigError::Invalid {
        key: "(all)".into(),
        origin: Source::Default,
        message: format!("the defaults do not serialize: {e}"),
    })?;
    let known = field_names::<T>();
    let mut layers: Vec<(Vec<String>, Value, Source)> = Vec::new();

    if let Some(path) = file {
        let table = read_file(path)?;
        for (key, value) in table {
            if !known.contains(&key.as_str()) {
                return Err(ConfigError::UnknownKey {
                    key,
                    origin: Source::File(path.to_path_buf()),
                });
            }
            layers.push((vec![key], value, Source::File(path.to_path_buf())));
        }
    }
    for (name, raw) in env {
        let Some(rest) = name.strip_prefix(&format!("{}_", T::ENV_PREFIX)) else {
            continue;
        };
        if T::ENV_RESERVED.contains(&rest) {
            continue;
        }
        let origin = Source::Env(name.clone());
        let path =
            env::key_path(rest, known, &defaults).ok_or_else(|| ConfigError::UnknownKey {
                key: rest.to_ascii_lowercase(),
                origin: origin.clone(),
            })?;
        let value = env::typed_value::<T>(&raw, &path, &defaults).map_err(|message| {
            ConfigError::Invalid {
                key: path.join("."),
                origin: origin.clone(),
                message,
            }
        })?;
        layers.push((path, value, origin));
    }
    for (key, flag, value) in flags.values {
        let origin = Source::Flag(flag);
        if !known.contains(&key.as_str()) {
            return Err(ConfigError::UnknownKey { key, origin });
        }
        let value = value.map_err(|message| ConfigError::Invalid {
            key: key.clone(),
            origin: origin.clone(),
            message,
        })?;
        layers.push((vec![key], value, origin));
    }

    // Each value must stand on its own over the defaults: this names the
    // key and the layer of a value that does not parse.
    let mut origins: HashMap<String, Source> = HashMap::new();
    let mut merged = defaults.clone();
    for (path, value, origin) in layers {
        let mut alone = defaults.clone();
        set_path(&mut alone, &path, value.clone());
        if let Err(e) = decode::<T>(alone) {
            return Err(ConfigError::Invalid {
                key: path.join("."),
                origin,
                message: e,
            });
        }
        set_path(&mut merged, &path, value);
        origins.insert(path[0].clone(), origin);
    }
    let config: T = decode(merged).map_err(|message| ConfigError::Invalid {
        key: "(combined)".into(),
        origin: Source::Default,
        message,
    })?;
    config.check().map_err(|invalid| ConfigError::Invalid {
        origin: origins
            .get(&invalid.key)
            .cloned()
            .unwrap_or(Source::Default),
        key: invalid.key,
        message: invalid.message,
    })?;
    Ok(config)
}

/// Reads and parses a TOML file, reporting a syntax error by line.
fn read_file(path: &Path) -> Result<Table, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|cause| ConfigError::Read {
        path: path.to_path_buf(),
        cause,
    })?;
    text.parse::<Table>().map_err(|e| ConfigError::Syntax {
        path: path.to_path_buf(),
        line: e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(1),
        message: e.message().trim().replace('\n', " "),
    })
}

/// Deserializes a whole table, the error as one line.
fn decode<T: DeserializeOwned>(table: Table) -> Result<T, String> {
    Value::Table(table)
        .try_into::<T>()
        .map_err(|e| e.to_string().trim().replace('\n', " "))
}

/// Sets `path` in `table`, merging into (or creating) nested tables; a
/// whole table at a path merges key by key with the table already there.
fn set_path(table: &mut Table, path: &[String], value: Value) {
    let Some((last, parents)) = path.split_last() else {
        return;
    };
    let mut at = table;
    for p in parents {
        let entry = at
            .entry(p.clone())
            .or_insert_with(|| Value::Table(Table::new()));
        if !entry.is_table() {
            *entry = Value::Table(Table::new());
        }
        let Value::Table(t) = entry else { return };
        at = t;
    }
    match (at.get_mut(last), value) {
        (Some(Value::Table(existing)), Value::Table(new)) => {
            for (k, v) in new {
                set_path(existing, &[k], v);
            }
        }
        (_, value) => {
            at.insert(last.clone(), value);
        }
    }
}

#[cfg(test)]
mod tests;
