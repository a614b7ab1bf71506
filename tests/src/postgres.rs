//! Throwaway PostgreSQL clusters started from the installed `initdb` /
//! `pg_ctl` binaries. PostgreSQL refuses to run as root, so as root the
//! cluster runs as the `postgres` user (`runuser`).

use std::path::{Path, PathBuf};
use std::process::Command;

use anyhow::{Context, bail};

/// A running PostgreSQL cluster, stopped and removed on drop.
pub struct TempPostgres {
    dir: tempfile::TempDir,
    port: u16,
    as_postgres_user: bool,
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim() == "0")
        .unwrap_or(false)
}

fn free_port() -> anyhow::Result<u16> {
    let l = std::net::TcpListener::bind("127.0.0.1:0").context("bind a free port")?;
    Ok(l.local_addr()?.port())
}

impl TempPostgres {
    /// Initialises and starts a cluster on a free loopback port.
    pub fn start() -> anyhow::Result<Self> {
        let dir = tempfile::Builder::new()
            .prefix("satstore-pg-")
            .tempdir()
            .context("create postgres temp dir")?;
        let as_postgres_user = is_root();
        if as_postgres_user {
            let ok = Command::new("chown")
                .args(["-R", "postgres:"])
                .arg(dir.path())
                .status()
                .context("chown postgres temp dir")?
                .success();
            if !ok {
                bail!("chown of {} to postgres failed", dir.path().display());
            }
        }
        let pg = TempPostgres {
            dir,
            port: free_port()?,
            as_postgres_user,
        };
        let data = pg.data_dir();
        pg.run(
            "initdb",
            &[
                "-D",
                path_str(&data)?,
                "-U",
                "postgres",
                "--auth=trust",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200",
            pg.port,
            path_str(pg.dir.path())?
        );
        let log = pg.dir.path().join("postgres.log");
        pg.run(
            "pg_ctl",
            &[
                "-D",
                path_str(&data)?,
                "-o",
                &opts,
                "-l",
                path_str(&log)?,
                "-w",
                "start",
            ],
        )
        .with_context(|| format!("start postgres (log: {})", log.display()))?;
        Ok(pg)
    }

    fn data_dir(&self) -> PathBuf {
        self.dir.path().join("data")
    }

    fn run(&self, program: &str, args: &[&str]) -> anyhow::Result<()> {
        let mut cmd = if self.as_postgres_user {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--", program]);
            c
        } else {
            Command::new(program)
        };
        let out = cmd
            .args(args)
            .output()
            .with_context(|| format!("run {program} (is PostgreSQL installed?)"))?;
        if !out.status.success() {
            bail!(
                "{program} failed: {}{}",
                String::from_utf8_lossy(&out.stdout),
                String::from_utf8_lossy(&out.stderr)
            );
        }
        Ok(())
    }

    /// Connection URL of the cluster's `postgres` database.
    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

fn path_str(p: &Path) -> anyhow::Result<&str> {
    p.to_str()
        .with_context(|| format!("non-UTF-8 path {}", p.display()))
}

impl Drop for TempPostgres {
    fn drop(&mut self) {
        if let Ok(data) = path_str(&self.data_dir()) {
            let data = data.to_string();
            let _ = self.run("pg_ctl", &["-D", &data, "-m", "immediate", "stop"]);
        }
    }
}
