//! How every binary ends: errors as one line on stderr, exit code 2 for a
//! bad configuration (nothing was started), 1 for any other failure.

use std::future::Future;
use std::process::ExitCode;

use crate::config::ConfigError;

/// Exit code of an invalid configuration (like a usage error).
pub const CONFIG_EXIT_CODE: u8 = 2;

/// Runs `main` on a multi-threaded runtime and turns its outcome into the
/// exit code, printing an error as `error: ...` on one line.
pub fn run<F>(main: F) -> ExitCode
where
    F: Future<Output = anyhow::Result<()>>,
{
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(main) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {}", one_line(&e));
            exit_code(&e)
        }
    }
}

/// The error and its causes on one line.
pub fn one_line(e: &anyhow::Error) -> String {
    format!("{e:#}").replace('\n', " ")
}

/// 2 when a [`ConfigError`] is anywhere in the chain, else 1.
pub fn exit_code(e: &anyhow::Error) -> ExitCode {
    if e.chain().any(|c| c.is::<ConfigError>()) {
        ExitCode::from(CONFIG_EXIT_CODE)
    } else {
        ExitCode::FAILURE
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn config_errors_exit_2_on_one_line() {
        let config = anyhow::Error::new(ConfigError::UnknownKey {
            key: "bogus".into(),
            origin: crate::config::Source::Env("X_BOGUS".into()),
        })
        .context("load config");
        assert_eq!(exit_code(&config), ExitCode::from(2));
        assert_eq!(
            one_line(&config),
            "load config: unknown config key `bogus` in environment variable X_BOGUS"
        );
        let other = anyhow::anyhow!("bind 127.0.0.1:1\nsecond line");
        assert_eq!(exit_code(&other), ExitCode::FAILURE);
        assert!(!one_line(&other).contains('\n'));
    }
}
