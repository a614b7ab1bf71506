//! `Contact.Ping`: proves the node's identity to a satellite dialing back.
//! The node signs only a fixed-length challenge, under its own signing
//! domain: no other message can be obtained from it.

use satstore_common::Identity;
use satstore_common::contact::{PING_CHALLENGE_LEN, PingProof};
use satstore_proto::piecestore::contact_server::Contact;
use satstore_proto::piecestore::{PingRequest, PingResponse};
use tonic::{Request, Response, Status};

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
        let challenge: [u8; PING_CHALLENGE_LEN] =
            req.into_inner().challenge.try_into().map_err(|_| {
                Status::invalid_argument(format!(
                    "a ping challenge is exactly {PING_CHALLENGE_LEN} bytes"
                ))
            })?;
        let proof = self.identity.keys().sign(&PingProof { challenge });
        Ok(Response::new(PingResponse {
            proof: Some(satstore_proto::common::Signed::from(proof)),
        }))
    }
}
