//! `Contact.Ping`: proves the node's identity to a satellite dialing back.

use satstore_common::Identity;
use satstore_proto::piecestore::contact_server::Contact;
use satstore_proto::piecestore::{PingRequest, PingResponse};
use tonic::{Request, Response, Status};

/// Longest challenge the node signs.
const MAX_CHALLENGE: usize = 1024;

/// The `Contact` gRPC service of one node.
#[derive(Clone)]
pub struct ContactService {
    identity: Identity,
}

impl ContactService {
    /// A service answering pings with `identity`'s signature.
    pub fn new(identity: Identity) -> Self {
        ContactService { identity }
    }
}

#[tonic::async_trait]
impl Contact for ContactService {
    async fn ping(&self, req: Request<PingRequest>) -> Result<Response<PingResponse>, Status> {
        let challenge = req.into_inner().challenge;
        if challenge.is_empty() || challenge.len() > MAX_CHALLENGE {
            return Err(Status::invalid_argument(format!(
                "challenge must be 1 to {MAX_CHALLENGE} bytes"
            )));
        }
        let payload = satstore_common::signing::ping_proof_payload(&challenge);
        let proof = self.identity.keys().sign_bytes(payload);
        Ok(Response::new(PingResponse {
            proof: Some(satstore_proto::common::Signed::from(proof)),
        }))
    }
}
