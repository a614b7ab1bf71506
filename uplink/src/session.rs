//! The session under a [`crate::Project`]: what every transfer needs from
//! the project it was started on — the satellite (its id authenticates the
//! order limits it signs), the satellite client, the dialer shared by all
//! piece transfers, the configuration and the access's encryption keys.
//!
//! Layer: above the transport (`metainfo`, `dial`), below the transfers
//! (`upload`, `download`, `segment_*`, multipart parts) and the project
//! facade, which share one session behind an `Arc`.

use satstore_common::NodeUrl;
use satstore_common::macaroon::ApiKey;
use satstore_transport::Dialer;

use crate::config::UplinkConfig;
use crate::dial::{self, DialOptions};
use crate::encryption::EncryptionStore;
use crate::error::Result;
use crate::metainfo::Metainfo;

/// State shared by a project and its uploads and downloads.
pub(crate) struct Session {
    /// `nodeid@host:port` of the satellite.
    pub(crate) satellite: NodeUrl,
    /// Keys for object keys, content and metadata.
    pub(crate) encryption: EncryptionStore,
    /// The project's configuration.
    pub(crate) config: UplinkConfig,
    /// The satellite client (API key in every request header).
    pub(crate) metainfo: Metainfo,
    /// Dials the nodes (and the satellite), one shared connection each.
    pub(crate) dialer: Dialer,
}

impl Session {
    /// A session on `satellite` with `api_key`; no RPC is made until the
    /// first call.
    pub(crate) fn open(
        satellite: NodeUrl,
        api_key: &ApiKey,
        encryption: EncryptionStore,
        config: UplinkConfig,
    ) -> Result<Self> {
        let dialer = dial::project_dialer(&config);
        let metainfo = Metainfo::connect(&satellite, api_key, &config, &dialer)?;
        Ok(Session {
            satellite,
            encryption,
            config,
            metainfo,
            dialer,
        })
    }

    /// How piece transfers of this session dial the nodes.
    pub(crate) fn dial_options(&self) -> DialOptions {
        DialOptions {
            timeout: self.config.dial_timeout,
            dialer: self.dialer.clone(),
        }
    }
}
