//! gRPC clients of a test network's peers, dialed the way the network's
//! own peers dial each other.

use localnet::Localnet;
use satstore_common::NodeUrl;
use satstore_proto::metainfo::metainfo_client::MetainfoClient;
use satstore_proto::node::node_client::NodeClient;
use satstore_proto::piecestore::contact_client::ContactClient;
use satstore_proto::piecestore::piecestore_client::PiecestoreClient;
use tonic::transport::Channel;

/// A TLS channel pinned to `url`'s id, anonymous like an uplink's.
async fn channel(url: &NodeUrl) -> anyhow::Result<Channel> {
    let dialer = satstore_transport::Dialer::anonymous(satstore_transport::Security::Tls);
    Ok(dialer.dial(url).await?)
}

/// A TLS channel to `url` authenticated as `who` (a node or satellite
/// identity).
pub async fn channel_as(url: &NodeUrl, who: &satstore_common::Identity) -> anyhow::Result<Channel> {
    let dialer = satstore_transport::Dialer::with_identity(satstore_transport::Security::Tls, who)?;
    Ok(dialer.dial(url).await?)
}

/// The satellite's Metainfo API.
pub async fn metainfo(net: &Localnet) -> anyhow::Result<MetainfoClient<Channel>> {
    Ok(MetainfoClient::new(channel(&net.satellite_url()).await?))
}

/// The satellite's Node API (check-ins), dialed anonymously.
pub async fn node_api(net: &Localnet) -> anyhow::Result<NodeClient<Channel>> {
    Ok(NodeClient::new(channel(&net.satellite_url()).await?))
}

/// The satellite's Node API, dialed as `who`.
pub async fn node_api_as(
    net: &Localnet,
    who: &satstore_common::Identity,
) -> anyhow::Result<NodeClient<Channel>> {
    Ok(NodeClient::new(
        channel_as(&net.satellite_url(), who).await?,
    ))
}

/// A storage node's Contact service.
pub async fn contact(node: &NodeUrl) -> anyhow::Result<ContactClient<Channel>> {
    Ok(ContactClient::new(channel(node).await?))
}

/// A storage node's Piecestore service.
pub async fn piecestore(node: &NodeUrl) -> anyhow::Result<PiecestoreClient<Channel>> {
    Ok(PiecestoreClient::new(channel(node).await?))
}
