//! The `uplink` command line against a localnet: mb, cp both ways, ls,
//! cat, rm, rb, and its error messages.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Output, Stdio};

use satstore_tests::{DataStream, TestNet};

/// The `uplink` binary built next to this test binary.
fn uplink_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test binary path");
    let dir = exe.parent().and_then(|d| d.parent()).expect("target dir");
    let bin = dir.join("uplink");
    assert!(
        bin.exists(),
        "{} missing: build it with `cargo build --bins` first",
        bin.display()
    );
    bin
}

fn run(access: &str, args: &[&str], stdin: Option<&[u8]>) -> Output {
    run_env(&[("UPLINK_ACCESS", access)], args, stdin)
}

/// Runs `uplink` with exactly these UPLINK_* variables set.
fn run_env(env: &[(&str, &str)], args: &[&str], stdin: Option<&[u8]>) -> Output {
    let mut cmd = Command::new(uplink_bin());
    cmd.env_remove("UPLINK_ACCESS")
        .env_remove("UPLINK_PASSPHRASE")
        .env_remove("UPLINK_CONFIG_DIR");
    for (k, v) in env {
        cmd.env(k, v);
    }
    let mut child = cmd
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn uplink");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(input)
            .expect("write stdin");
    }
    drop(child.stdin.take());
    child.wait_with_output().expect("wait uplink")
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "uplink failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uplink_cli_walkthrough() {
    let tn = TestNet::start().await.expect("start");
    let access = tn.net().access().serialize();
    let dir = tempfile::tempdir().expect("tmp");
    let src = dir.path().join("src.bin");
    let data = DataStream::new(3, 3_000_000).to_vec();
    std::fs::write(&src, &data).expect("write src");
    let access2 = access.clone();
    let src2 = src.clone();
    let dst = dir.path().join("dst.bin");
    let dst2 = dst.clone();
    let data2 = data.clone();
    tokio::task::spawn_blocking(move || {
        let access = access2;
        ok(&run(&access, &["mb", "sj://cli"], None));
        ok(&run(
            &access,
            &["cp", src2.to_str().expect("utf8"), "sj://cli/dir/big.bin"],
            None,
        ));
        ok(&run(
            &access,
            &["cp", "-", "sj://cli/small.txt"],
            Some(b"hello satstore"),
        ));
        let ls = ok(&run(&access, &["ls", "sj://cli"], None));
        assert!(ls.contains("PRE dir/"), "{ls}");
        assert!(ls.contains("small.txt"), "{ls}");
        let ls = ok(&run(&access, &["ls", "--recursive", "sj://cli"], None));
        assert!(ls.contains("dir/big.bin") && ls.contains("3000000"), "{ls}");
        let buckets = ok(&run(&access, &["ls"], None));
        assert!(buckets.contains("cli"), "{buckets}");
        let cat = run(&access, &["cat", "sj://cli/small.txt"], None);
        assert_eq!(ok(&cat), "hello satstore");
        ok(&run(
            &access,
            &["cp", "sj://cli/dir/big.bin", dst2.to_str().expect("utf8")],
            None,
        ));
        assert!(std::fs::read(&dst2).expect("read dst") == data2);

        // Errors: one clear line on stderr, non-zero exit.
        let out = run(&access, &["rb", "sj://cli"], None);
        assert!(!out.status.success());
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.to_lowercase().contains("not empty"), "{err}");
        assert_eq!(err.trim().lines().count(), 1, "{err}");
        let out = run(&access, &["cat", "sj://cli/missing"], None);
        assert!(!out.status.success());
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .to_lowercase()
                .contains("not found")
        );
        let out = run(&access, &["cp", "nowhere.txt", "notaurl"], None);
        assert!(!out.status.success());
        let out = run("garbage-access", &["ls"], None);
        assert!(!out.status.success());

        ok(&run(&access, &["rm", "sj://cli/small.txt"], None));
        ok(&run(&access, &["rb", "--force", "sj://cli"], None));
        let buckets = ok(&run(&access, &["ls"], None));
        assert!(!buckets.contains("cli"), "{buckets}");
    })
    .await
    .expect("cli steps");
    tn.shutdown().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn uplink_cli_access_share_and_revoke() {
    let tn = TestNet::start().await.expect("start");
    let sat = tn.net().satellite_url().to_string();
    let api_key = tn.net().access().api_key.serialize();
    let config_dir = tempfile::tempdir().expect("config dir");
    let cfg = config_dir.path().to_str().expect("utf8").to_string();
    tokio::task::spawn_blocking(move || {
        let env = [("UPLINK_CONFIG_DIR", cfg.as_str())];
        // Without any access the error says how to get one.
        let out = run_env(&env, &["ls"], None);
        assert!(!out.status.success());
        ok(&run_env(
            &env,
            &[
                "access",
                "create",
                "--satellite",
                &sat,
                "--api-key",
                &api_key,
                "--passphrase-stdin",
            ],
            Some(b"a passphrase\n"),
        ));
        // The saved default is used by every command.
        ok(&run_env(&env, &["mb", "sj://shared"], None));
        ok(&run_env(
            &env,
            &["cp", "-", "sj://shared/docs/a.txt"],
            Some(b"hello docs"),
        ));
        ok(&run_env(
            &env,
            &["cp", "-", "sj://shared/private/b.txt"],
            Some(b"private"),
        ));
        let list = ok(&run_env(&env, &["access", "list"], None));
        assert!(list.contains("default"), "{list}");
        let inspect = ok(&run_env(&env, &["access", "inspect"], None));
        assert!(inspect.contains(&sat), "{inspect}");

        // A read-only share of docs/: the grant is the last stdout line.
        let out = ok(&run_env(
            &env,
            &["share", "--readonly", "sj://shared/docs/"],
            None,
        ));
        let grant = out
            .trim()
            .lines()
            .last()
            .expect("grant line")
            .trim()
            .to_string();
        let with_grant = [
            ("UPLINK_CONFIG_DIR", cfg.as_str()),
            ("UPLINK_ACCESS", grant.as_str()),
        ];
        assert_eq!(
            ok(&run_env(
                &with_grant,
                &["cat", "sj://shared/docs/a.txt"],
                None
            )),
            "hello docs"
        );
        let out = run_env(
            &with_grant,
            &["cp", "-", "sj://shared/docs/new.txt"],
            Some(b"x"),
        );
        assert!(!out.status.success(), "read-only share uploaded");
        let out = run_env(&with_grant, &["cat", "sj://shared/private/b.txt"], None);
        assert!(!out.status.success(), "share read outside its prefix");
        // `--access GRANT` works as well as the variable.
        assert_eq!(
            ok(&run_env(
                &env,
                &["--access", &grant, "cat", "sj://shared/docs/a.txt"],
                None
            )),
            "hello docs"
        );

        // Revoked: refused at once; the default access is unaffected.
        ok(&run_env(&env, &["access", "revoke", &grant], None));
        let out = run_env(&with_grant, &["cat", "sj://shared/docs/a.txt"], None);
        assert!(!out.status.success(), "revoked grant still works");
        assert!(
            String::from_utf8_lossy(&out.stderr)
                .to_lowercase()
                .contains("revoked")
                || String::from_utf8_lossy(&out.stderr)
                    .to_lowercase()
                    .contains("permission"),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        assert_eq!(
            ok(&run_env(&env, &["cat", "sj://shared/docs/a.txt"], None)),
            "hello docs"
        );
        ok(&run_env(&env, &["access", "remove", "default"], None));
    })
    .await
    .expect("cli steps");
    tn.shutdown().await;
}
