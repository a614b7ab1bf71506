//! Client tuning knobs: timeouts, segment size, listing page size and the
//! long-tail behaviour of piece uploads.

use std::time::Duration;

/// Configuration of a [`crate::Project`]. `UplinkConfig::default()` suits
/// production; tests shrink `segment_size` and `list_page_size`.
#[derive(Clone, Debug)]
pub struct UplinkConfig {
    /// Sent to the satellite in every request header.
    pub user_agent: String,
    /// Connection timeout for the satellite and each storage node (10 s).
    pub dial_timeout: Duration,
    /// Plaintext bytes per segment; `None` = the satellite's maximum
    /// (64 MiB by default). Capped at the satellite's maximum.
    pub segment_size: Option<u64>,
    /// Items asked per listing page (1000).
    pub list_page_size: u32,
    /// Erasure-coded batches buffered per piece upload (4 x 64 KiB).
    pub piece_channel_depth: usize,
    /// Longest wait for the next message of a piece download before the
    /// piece is abandoned for another (30 s).
    pub message_timeout: Duration,
    /// Once `success` pieces took a batch (or finished), how long the others
    /// may lag before they are cut off (long-tail cancellation).
    pub long_tail_grace: Duration,
    /// Access grants requested with this config store object keys in the
    /// clear (path cipher "none"): the satellite sees keys and lists them
    /// in lexicographic order. Content and metadata stay encrypted.
    pub unencrypted_object_keys: bool,
    /// Dial the satellite and nodes in plaintext instead of TLS pinned to
    /// their ids. Only for networks run with `--insecure`.
    pub insecure: bool,
}

impl Default for UplinkConfig {
    fn default() -> Self {
        UplinkConfig {
            user_agent: concat!("uplink/", env!("CARGO_PKG_VERSION")).to_string(),
            dial_timeout: Duration::from_secs(10),
            segment_size: None,
            list_page_size: 1000,
            piece_channel_depth: 4,
            message_timeout: Duration::from_secs(30),
            long_tail_grace: Duration::from_millis(500),
            unencrypted_object_keys: false,
            insecure: false,
        }
    }
}
