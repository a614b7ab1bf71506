use std::net::SocketAddr;

use serde::{Deserialize, Serialize};

use super::*;

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Sample {
    data_dir: PathBuf,
    database_url: Option<String>,
    listen: SocketAddr,
    limit: u32,
    insecure: bool,
    peers: Vec<String>,
    inner: Inner,
}

#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
struct Inner {
    required: u32,
    share_size: u32,
}

impl Default for Inner {
    fn default() -> Self {
        Inner {
            required: 4,
            share_size: 256,
        }
    }
}

impl Default for Sample {
    fn default() -> Self {
        Sample {
            data_dir: PathBuf::from("./data"),
            database_url: None,
            listen: SocketAddr::from(([127, 0, 0, 1], 7000)),
            limit: 10,
            insecure: false,
            peers: vec![],
            inner: Inner::default(),
        }
    }
}

impl ServiceConfig for Sample {
    const ENV_PREFIX: &'static str = "SAMPLE";
    fn check(&self) -> Result<(), InvalidValue> {
        if self.limit == 0 {
            return Err(InvalidValue::new("limit", "must be positive"));
        }
        Ok(())
    }
}

fn env(vars: &[(&str, &str)]) -> Vec<(String, String)> {
    vars.iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect()
}

fn file(text: &str) -> (tempfile::TempDir, PathBuf) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("sample.toml");
    std::fs::write(&path, text).unwrap();
    (dir, path)
}

#[test]
fn defaults_when_nothing_is_given() {
    let c: Sample = load_from(None, vec![], Flags::new()).unwrap();
    assert_eq!(c, Sample::default());
}

#[test]
fn file_then_env_then_flags() {
    let (_d, path) = file("limit = 5\nlisten = \"127.0.0.1:1\"\n[inner]\nrequired = 2\n");
    let c: Sample = load_from(Some(&path), vec![], Flags::new()).unwrap();
    assert_eq!(c.limit, 5);
    assert_eq!(c.listen.port(), 1);
    // A partial table keeps the other keys' defaults.
    assert_eq!(
        c.inner,
        Inner {
            required: 2,
            share_size: 256
        }
    );

    let vars = env(&[
        ("SAMPLE_LIMIT", "6"),
        ("SAMPLE_LISTEN", "127.0.0.1:2"),
        ("SAMPLE_INNER_SHARE_SIZE", "512"),
        ("SAMPLE_INSECURE", "yes"),
        ("SAMPLE_PEERS", "a@x:1, b@y:2"),
        ("SAMPLE_DATABASE_URL", "sqlite://x"),
        ("SAMPLE_CONFIG", "ignored: names the file"),
        ("OTHER_LIMIT", "not ours"),
    ]);
    let c: Sample = load_from(Some(&path), vars.clone(), Flags::new()).unwrap();
    assert_eq!(c.limit, 6);
    assert_eq!(c.listen.port(), 2);
    assert_eq!(
        c.inner,
        Inner {
            required: 2,
            share_size: 512
        }
    );
    assert!(c.insecure);
    assert_eq!(c.peers, vec!["a@x:1", "b@y:2"]);
    assert_eq!(c.database_url.as_deref(), Some("sqlite://x"));

    let flags = Flags::new()
        .set("limit", Some(7u32))
        .set::<SocketAddr>("listen", None)
        .set("data_dir", Some(PathBuf::from("/flag")));
    let c: Sample = load_from(Some(&path), vars, flags).unwrap();
    assert_eq!(c.limit, 7);
    assert_eq!(c.listen.port(), 2, "an absent flag leaves the env value");
    assert_eq!(c.data_dir, PathBuf::from("/flag"));
}

#[test]
fn unknown_keys_are_named_with_their_source() {
    let (_d, path) = file("limit = 5\nbogus = 1\n");
    let e = load_from::<Sample>(Some(&path), vec![], Flags::new()).unwrap_err();
    let text = e.to_string();
    assert!(matches!(e, ConfigError::UnknownKey { ref key, .. } if key == "bogus"));
    assert!(
        text.contains("`bogus`") && text.contains("sample.toml"),
        "{text}"
    );

    let (_d, path) = file("[inner]\nbogus = 1\n");
    let e = load_from::<Sample>(Some(&path), vec![], Flags::new()).unwrap_err();
    let text = e.to_string();
    assert!(text.contains("`inner`") && text.contains("bogus"), "{text}");

    let e = load_from::<Sample>(None, env(&[("SAMPLE_LIMTI", "3")]), Flags::new()).unwrap_err();
    assert_eq!(
        e.to_string(),
        "unknown config key `limti` in environment variable SAMPLE_LIMTI"
    );
}

#[test]
fn bad_values_name_key_and_source() {
    let e = load_from::<Sample>(None, env(&[("SAMPLE_LIMIT", "ten")]), Flags::new()).unwrap_err();
    let text = e.to_string();
    assert!(
        text.starts_with("invalid config key `limit` from environment variable SAMPLE_LIMIT"),
        "{text}"
    );
    let e = load_from::<Sample>(None, env(&[("SAMPLE_LISTEN", "nowhere")]), Flags::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`listen`") && e.contains("SAMPLE_LISTEN"), "{e}");
    let e = load_from::<Sample>(None, env(&[("SAMPLE_INSECURE", "maybe")]), Flags::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`insecure`") && e.contains("true or false"),
        "{e}"
    );

    let (_d, path) = file("limit = \"many\"\n");
    let e = load_from::<Sample>(Some(&path), vec![], Flags::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("`limit`") && e.contains("sample.toml"), "{e}");

    let (_d, path) = file("limit = 5\nlisten = \n");
    let e = load_from::<Sample>(Some(&path), vec![], Flags::new()).unwrap_err();
    assert!(matches!(e, ConfigError::Syntax { line: 2, .. }), "{e}");
    assert!(!e.to_string().contains('\n'), "one line: {e}");

    let e = load_from::<Sample>(Some(Path::new("/no/such/file.toml")), vec![], Flags::new())
        .unwrap_err()
        .to_string();
    assert!(e.contains("/no/such/file.toml"), "{e}");
}

#[test]
fn check_failures_name_the_layer_that_set_the_key() {
    let (_d, path) = file("limit = 0\n");
    let e = load_from::<Sample>(Some(&path), vec![], Flags::new())
        .unwrap_err()
        .to_string();
    assert!(
        e.contains("`limit`") && e.contains("sample.toml") && e.contains("positive"),
        "{e}"
    );
    let e = load_from::<Sample>(Some(&path), vec![], Flags::new().set("limit", Some(0u32)))
        .unwrap_err()
        .to_string();
    assert!(e.contains("flag --limit"), "{e}");
    // A later layer fixing the value wins.
    let c: Sample = load_from(Some(&path), env(&[("SAMPLE_LIMIT", "3")]), Flags::new()).unwrap();
    assert_eq!(c.limit, 3);
}

#[test]
fn switches_and_lists() {
    let c: Sample = load_from(
        None,
        vec![],
        Flags::new()
            .switch("insecure", false)
            .list::<String>("peers", vec![]),
    )
    .unwrap();
    assert!(!c.insecure);
    assert!(c.peers.is_empty());
    let c: Sample = load_from(
        None,
        env(&[("SAMPLE_PEERS", "x")]),
        Flags::new()
            .switch("insecure", true)
            .list("peers", vec!["a".to_string(), "b".to_string()]),
    )
    .unwrap();
    assert!(c.insecure);
    assert_eq!(c.peers, vec!["a", "b"]);
    let e = load_from::<Sample>(None, vec![], Flags::new().set("nope", Some(1)))
        .unwrap_err()
        .to_string();
    assert_eq!(e, "unknown config key `nope` in flag --nope");
}
