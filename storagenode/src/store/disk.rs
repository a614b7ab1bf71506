//! The real free space of the filesystem holding the piece store, so a node
//! never fills its disk whatever its allocation says (the disk may be
//! shared, or smaller than the allocation).

use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a reading of the filesystem is trusted.
const REFRESH_AFTER: Duration = Duration::from_secs(1);
/// Bytes taken since the last reading after which the filesystem is read
/// again at once.
const REFRESH_AFTER_BYTES: u64 = 64 << 20;

/// Free bytes of a filesystem above a floor, read with `statvfs` at most
/// every second (or every 64 MiB taken) and decremented in between.
pub struct DiskSpace {
    path: PathBuf,
    floor: u64,
    state: Mutex<State>,
}

struct State {
    read_at: Option<Instant>,
    free: u64,
    taken_since: u64,
}

/// Bytes available to unprivileged users on the filesystem of `path`.
#[allow(unsafe_code)] // statvfs(3) has no safe wrapper in std
pub fn filesystem_available(path: &std::path::Path) -> std::io::Result<u64> {
    use std::os::unix::ffi::OsStrExt;
    let c = std::ffi::CString::new(path.as_os_str().as_bytes())
        .map_err(|e| std::io::Error::new(std::io::ErrorKind::InvalidInput, e))?;
    let mut st: libc::statvfs = unsafe { std::mem::zeroed() };
    // SAFETY: `c` is a valid NUL-terminated path and `st` a valid out-pointer.
    let rc = unsafe { libc::statvfs(c.as_ptr(), &mut st) };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok((st.f_bavail as u64).saturating_mul(st.f_frsize as u64))
}

impl DiskSpace {
    /// Watches the filesystem of `path`, keeping `floor` bytes free.
    pub fn new(path: PathBuf, floor: u64) -> Self {
        DiskSpace {
            path,
            floor,
            state: Mutex::new(State {
                read_at: None,
                free: 0,
                taken_since: 0,
            }),
        }
    }

    fn refresh(&self, s: &mut State) {
        let stale = s
            .read_at
            .is_none_or(|t| t.elapsed() >= REFRESH_AFTER || s.taken_since >= REFRESH_AFTER_BYTES);
        if !stale {
            return;
        }
        match filesystem_available(&self.path) {
            Ok(free) => s.free = free.saturating_sub(self.floor),
            Err(e) => {
                // Unknown: keep the last reading rather than refuse everything.
                tracing::warn!(path = %self.path.display(), error = %e, "statvfs failed");
            }
        }
        s.read_at = Some(Instant::now());
        s.taken_since = 0;
    }

    /// Bytes that may still be written.
    pub fn available(&self) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(&mut s);
        s.free
    }

    /// Takes `n` bytes if available; returns what was available (>= `n` on
    /// success).
    pub fn take(&self, n: u64) -> u64 {
        let mut s = self.state.lock().unwrap_or_else(|e| e.into_inner());
        self.refresh(&mut s);
        let free = s.free;
        if free >= n {
            s.free -= n;
            s.taken_since += n;
        }
        free
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_the_filesystem_and_keeps_the_floor() {
        let dir = tempfile::tempdir().unwrap();
        let real = filesystem_available(dir.path()).unwrap();
        assert!(real > 0);
        // A floor above what the disk has leaves nothing.
        let none = DiskSpace::new(dir.path().to_path_buf(), real + (1 << 40));
        assert_eq!(none.available(), 0);
        assert_eq!(none.take(1), 0);
        let some = DiskSpace::new(dir.path().to_path_buf(), 0);
        let before = some.available();
        assert!(some.take(4096) >= 4096);
        assert!(some.available() <= before);
        assert!(filesystem_available(std::path::Path::new("/no/such/dir")).is_err());
    }
}
