//! UTC calendar formatting for the signers (no date crate needed): the
//! SigV4 `x-amz-date` / date stamp and the RFC 1123 `Date` of SigV2.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A UTC calendar time, second precision.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct UtcTime {
    /// Year, e.g. 2013.
    pub year: i64,
    /// Month, 1..=12.
    pub month: u32,
    /// Day of month, 1..=31.
    pub day: u32,
    /// Hour, 0..=23.
    pub hour: u32,
    /// Minute, 0..=59.
    pub minute: u32,
    /// Second, 0..=59.
    pub second: u32,
    /// Day of week, 0 = Sunday.
    pub weekday: u32,
}

const WEEKDAYS: [&str; 7] = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];
const MONTHS: [&str; 12] = [
    "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
];

impl UtcTime {
    /// The calendar time of `t` (times before 1970 clamp to the epoch).
    pub fn from_system(t: SystemTime) -> Self {
        let secs = t
            .duration_since(UNIX_EPOCH)
            .unwrap_or(Duration::ZERO)
            .as_secs() as i64;
        let days = secs.div_euclid(86_400);
        let rem = secs.rem_euclid(86_400);
        let (year, month, day) = civil_from_days(days);
        UtcTime {
            year,
            month,
            day,
            hour: (rem / 3600) as u32,
            minute: (rem % 3600 / 60) as u32,
            second: (rem % 60) as u32,
            // 1970-01-01 was a Thursday.
            weekday: (days + 4).rem_euclid(7) as u32,
        }
    }

    /// `YYYYMMDDTHHMMSSZ`, the SigV4 `x-amz-date`.
    pub fn amz_date(&self) -> String {
        format!(
            "{}T{:02}{:02}{:02}Z",
            self.date_stamp(),
            self.hour,
            self.minute,
            self.second
        )
    }

    /// `YYYYMMDD`, the date of a SigV4 credential scope.
    pub fn date_stamp(&self) -> String {
        format!("{:04}{:02}{:02}", self.year, self.month, self.day)
    }

    /// `Tue, 27 Mar 2007 19:36:42 GMT`, an HTTP `Date` (what boto 2 sends).
    pub fn http_date(&self) -> String {
        format!(
            "{}, {:02} {} {:04} {:02}:{:02}:{:02} GMT",
            WEEKDAYS[self.weekday as usize % 7],
            self.day,
            MONTHS[(self.month as usize + 11) % 12],
            self.year,
            self.hour,
            self.minute,
            self.second
        )
    }
}

/// The time `secs` seconds after the Unix epoch.
pub fn unix(secs: u64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(secs)
}

/// Seconds since the Unix epoch of `t` (0 before it).
pub fn unix_secs(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or(Duration::ZERO)
        .as_secs()
}

/// Days since 1970-01-01 to (year, month, day), Howard Hinnant's algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_the_published_example_times() {
        let t = UtcTime::from_system(unix(1_369_353_600));
        assert_eq!(t.amz_date(), "20130524T000000Z");
        assert_eq!(t.date_stamp(), "20130524");
        let t = UtcTime::from_system(unix(1_440_938_160));
        assert_eq!(t.amz_date(), "20150830T123600Z");
        let t = UtcTime::from_system(unix(1_175_024_202));
        assert_eq!(t.http_date(), "Tue, 27 Mar 2007 19:36:42 GMT");
    }

    #[test]
    fn handles_leap_days_and_the_epoch() {
        // 2024-02-29T23:59:59Z
        let t = UtcTime::from_system(unix(1_709_251_199));
        assert_eq!(t.amz_date(), "20240229T235959Z");
        assert_eq!(t.http_date(), "Thu, 29 Feb 2024 23:59:59 GMT");
        let t = UtcTime::from_system(SystemTime::UNIX_EPOCH - Duration::from_secs(5));
        assert_eq!(t.amz_date(), "19700101T000000Z");
        assert_eq!(unix_secs(unix(42)), 42);
    }
}
