//! API-key calls: RevokeApiKey (a holder revokes its key or one derived
//! from it; see [`crate::revocation`]).

use satstore_common::macaroon::ApiKey;
use satstore_proto::metainfo as pb;

use super::MetainfoEndpoint;
use crate::error::{SatelliteError, invalid};

impl MetainfoEndpoint {
    /// RevokeApiKey: the header's key must be valid; the key to revoke must
    /// be it or derive from it. From the next request on, the revoked key
    /// and everything derived from it are refused.
    pub async fn revoke_api_key(
        &self,
        req: pb::RevokeApiKeyRequest,
    ) -> Result<pb::RevokeApiKeyResponse, SatelliteError> {
        let auth = self.authenticate(&req.header).await?;
        if req.api_key.is_empty() {
            return Err(invalid("api_key (the key to revoke) is missing"));
        }
        let target = ApiKey::from_bytes(&req.api_key)
            .map_err(|e| invalid(format!("the API key to revoke is malformed: {e}")))?;
        crate::revocation::revoke_as_holder(&self.store, &auth.key, &target).await?;
        self.metrics.api_keys_revoked.inc();
        Ok(pb::RevokeApiKeyResponse {})
    }
}
