//! What travels with a request through s3s: the client's address and
//! the slot the access check fills with the operation's name.

use std::net::SocketAddr;
use std::sync::{Arc, Mutex};

/// Filled in by the access check with the S3 operation's name.
#[derive(Clone, Default)]
pub struct OperationSlot(pub Arc<Mutex<Option<String>>>);

impl OperationSlot {
    /// The operation's name ("Unknown" until the access check ran).
    pub fn name(&self) -> String {
        self.0
            .lock()
            .ok()
            .and_then(|g| g.clone())
            .unwrap_or_else(|| "Unknown".to_string())
    }
}

/// The client's address, put into each request's extensions by the server.
#[derive(Clone, Copy, Debug)]
pub struct PeerAddr(pub SocketAddr);

/// Lets every request through to the operations (which authorize each one
/// themselves: anonymous requests may read what an ACL makes public), and
/// records the operation's name for metrics.
pub struct RecordOperation;

#[async_trait::async_trait]
impl s3s::access::S3Access for RecordOperation {
    async fn check(&self, cx: &mut s3s::access::S3AccessContext<'_>) -> s3s::S3Result<()> {
        let name = cx.s3_op().name().to_string();
        if let Some(slot) = cx.extensions_mut().get::<OperationSlot>()
            && let Ok(mut g) = slot.0.lock()
        {
            *g = Some(name);
        }
        Ok(())
    }
}
