//! gRPC clients of a test network's peers, dialed the way the network's
//! own peers dial each other.

use localnet::Localnet;
use satstore_common::NodeUrl;
use satstore_proto::metainfo::metainfo_client::MetainfoClient;
use satstore_proto::node::node_client::NodeClient;
use satstore_proto::piecestore::contact_client::ContactClient;
use satstore_proto::piecestore::piecestore_client::PiecestoreClient;
use tonic::transport::Channel;

async fn channel(url: &NodeUrl) -> anyhow::Result<Channel> {
    Ok(tonic::transport::Endpoint::from_shared(url.endpoint())?
        .connect()
        .await?)
}

/// The satellite's Metainfo API.
pub async fn metainfo(net: &Localnet) -> anyhow::Result<MetainfoClient<Channel>> {
    Ok(MetainfoClient::new(channel(&net.satellite_url()).await?))
}

/// The satellite's Node API (check-ins).
pub async fn node_api(net: &Localnet) -> anyhow::Result<NodeClient<Channel>> {
    Ok(NodeClient::new(channel(&net.satellite_url()).await?))
}

/// A storage node's Contact service.
pub async fn contact(node: &NodeUrl) -> anyhow::Result<ContactClient<Channel>> {
    Ok(ContactClient::new(channel(node).await?))
}

/// A storage node's Piecestore service.
pub async fn piecestore(node: &NodeUrl) -> anyhow::Result<PiecestoreClient<Channel>> {
    Ok(PiecestoreClient::new(channel(node).await?))
}
