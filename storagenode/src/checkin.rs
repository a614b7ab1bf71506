//! The check-in with every trusted satellite: announce address, free space
//! and version in an identity-signed `CheckInInfo`; the satellite dials back
//! `Contact.Ping` before it records the node online.

use std::sync::Arc;
use std::time::Duration;

use satstore_common::contact::CheckInInfo;
use satstore_common::{Identity, NodeUrl};
use satstore_proto::node::CheckInRequest;
use satstore_proto::node::node_client::NodeClient;
use satstore_transport::Dialer;

use crate::error::StorageNodeError;
use crate::store::PieceStore;

const CONNECT_TIMEOUT: Duration = Duration::from_secs(5);
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

/// Checks in with the satellites of one node.
pub struct CheckIn {
    identity: Identity,
    dialer: Dialer,
    satellites: Vec<NodeUrl>,
    address: String,
    store: Arc<dyn PieceStore>,
}

impl CheckIn {
    /// A check-in announcing `address` (host:port) for `identity`.
    pub fn new(
        identity: Identity,
        dialer: Dialer,
        satellites: Vec<NodeUrl>,
        address: String,
        store: Arc<dyn PieceStore>,
    ) -> Self {
        CheckIn {
            identity,
            dialer,
            satellites,
            address,
            store,
        }
    }

    /// Checks in with every satellite (concurrently); returns the first error.
    pub async fn check_in_all(&self) -> Result<(), StorageNodeError> {
        let results =
            futures::future::join_all(self.satellites.iter().map(|s| self.check_in(s))).await;
        results.into_iter().collect()
    }

    /// The signed announcement of this node's address, free space and version.
    pub fn signed_info(&self) -> satstore_common::SignedMessage {
        let info = CheckInInfo {
            address: self.address.clone(),
            free_disk: self.store.available_space(),
            version: env!("CARGO_PKG_VERSION").to_string(),
            timestamp_ms: satstore_common::time::now_unix_ms(),
        };
        self.identity.keys().sign(&info)
    }

    /// One check-in with `satellite`.
    pub async fn check_in(&self, satellite: &NodeUrl) -> Result<(), StorageNodeError> {
        let fail = |reason: String| StorageNodeError::CheckIn {
            satellite: satellite.to_string(),
            reason,
        };
        let signed = self.signed_info();
        let endpoint = self
            .dialer
            .endpoint(satellite)
            .map_err(|e| fail(e.to_string()))?
            .connect_timeout(CONNECT_TIMEOUT)
            .timeout(REQUEST_TIMEOUT);
        let channel = self
            .dialer
            .connect(satellite, endpoint)
            .await
            .map_err(|e| fail(e.to_string()))?;
        let resp = NodeClient::new(channel)
            .check_in(CheckInRequest {
                info: Some(satstore_proto::common::Signed::from(signed)),
            })
            .await
            .map_err(|s| fail(format!("{}: {}", s.code(), s.message())))?
            .into_inner();
        if !resp.ping_ok {
            return Err(fail(format!(
                "satellite could not ping back: {}",
                resp.ping_error
            )));
        }
        tracing::debug!(satellite = %satellite, "checked in");
        Ok(())
    }
}
