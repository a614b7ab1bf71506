//! Thin client of the satellite's Metainfo service: adds the request
//! header, opens one span per call and maps status codes to [`UplinkError`].

use std::future::Future;

use satstore_proto::common::RequestHeader;
use satstore_proto::metainfo as pb;
use satstore_proto::metainfo::metainfo_client::MetainfoClient;
use tonic::transport::Channel;
use tracing::Instrument;

use crate::config::UplinkConfig;
use crate::error::{Result, Subject, UplinkError};
use satstore_common::NodeUrl;
use satstore_common::macaroon::ApiKey;

/// A connection to the satellite of one access.
#[derive(Clone)]
pub(crate) struct Metainfo {
    client: MetainfoClient<Channel>,
    header: RequestHeader,
}

macro_rules! rpc {
    ($(#[$doc:meta])* $name:ident, $method:literal, $req:ty, $resp:ty, $subject:expr) => {
        $(#[$doc])*
        pub(crate) async fn $name(&self, mut req: $req) -> Result<$resp> {
            req.header = Some(self.header.clone());
            let mut client = self.client.clone();
            call($method, $subject, async move { client.$name(req).await }).await
        }
    };
}

async fn call<T>(
    method: &'static str,
    subject: Subject,
    fut: impl Future<Output = std::result::Result<tonic::Response<T>, tonic::Status>>,
) -> Result<T> {
    let span = tracing::debug_span!("metainfo", method);
    match fut.instrument(span).await {
        Ok(r) => Ok(r.into_inner()),
        Err(status) => {
            tracing::debug!(method, code = ?status.code(), message = status.message(), "satellite call failed");
            Err(UplinkError::from_status(&status, subject))
        }
    }
}

impl Metainfo {
    /// A lazily connecting client: the first call dials the satellite.
    pub(crate) fn connect(
        satellite: &NodeUrl,
        api_key: &ApiKey,
        config: &UplinkConfig,
        dialer: &satstore_transport::Dialer,
    ) -> Result<Self> {
        let endpoint = dialer
            .endpoint(satellite)
            .map_err(|e| {
                UplinkError::InvalidArgument(format!("satellite address {satellite}: {e}"))
            })?
            .connect_timeout(config.dial_timeout)
            .user_agent(config.user_agent.clone())
            .map_err(|e| UplinkError::InvalidArgument(format!("user agent: {e}")))?;
        let channel = dialer.connect_lazy(satellite, endpoint).map_err(|e| {
            UplinkError::InvalidArgument(format!("satellite address {satellite}: {e}"))
        })?;
        let client = MetainfoClient::new(channel)
            .max_decoding_message_size(64 << 20)
            .max_encoding_message_size(64 << 20);
        Ok(Metainfo {
            client,
            header: RequestHeader {
                api_key: api_key.to_bytes(),
                user_agent: config.user_agent.clone(),
            },
        })
    }

    rpc!(
        create_bucket,
        "CreateBucket",
        pb::CreateBucketRequest,
        pb::CreateBucketResponse,
        Subject::Bucket
    );
    rpc!(
        get_bucket,
        "GetBucket",
        pb::GetBucketRequest,
        pb::GetBucketResponse,
        Subject::Bucket
    );
    rpc!(
        delete_bucket,
        "DeleteBucket",
        pb::DeleteBucketRequest,
        pb::DeleteBucketResponse,
        Subject::Bucket
    );
    rpc!(
        list_buckets,
        "ListBuckets",
        pb::ListBucketsRequest,
        pb::ListBucketsResponse,
        Subject::Bucket
    );
    rpc!(
        begin_object,
        "BeginObject",
        pb::BeginObjectRequest,
        pb::BeginObjectResponse,
        Subject::Object
    );
    rpc!(
        begin_segment,
        "BeginSegment",
        pb::BeginSegmentRequest,
        pb::BeginSegmentResponse,
        Subject::Object
    );
    rpc!(
        commit_segment,
        "CommitSegment",
        pb::CommitSegmentRequest,
        pb::CommitSegmentResponse,
        Subject::Object
    );
    rpc!(
        make_inline_segment,
        "MakeInlineSegment",
        pb::MakeInlineSegmentRequest,
        pb::MakeInlineSegmentResponse,
        Subject::Object
    );
    rpc!(
        commit_object,
        "CommitObject",
        pb::CommitObjectRequest,
        pb::CommitObjectResponse,
        Subject::Object
    );
    rpc!(
        abort_object,
        "AbortObject",
        pb::AbortObjectRequest,
        pb::AbortObjectResponse,
        Subject::Object
    );
    rpc!(
        get_object,
        "GetObject",
        pb::GetObjectRequest,
        pb::GetObjectResponse,
        Subject::Object
    );
    rpc!(
        download_object,
        "DownloadObject",
        pb::DownloadObjectRequest,
        pb::DownloadObjectResponse,
        Subject::Object
    );
    rpc!(
        download_segment,
        "DownloadSegment",
        pb::DownloadSegmentRequest,
        pb::DownloadSegmentResponse,
        Subject::Object
    );
    rpc!(
        list_objects,
        "ListObjects",
        pb::ListObjectsRequest,
        pb::ListObjectsResponse,
        Subject::Object
    );
    rpc!(
        delete_object,
        "DeleteObject",
        pb::DeleteObjectRequest,
        pb::DeleteObjectResponse,
        Subject::Object
    );
    rpc!(
        project_info,
        "ProjectInfo",
        pb::ProjectInfoRequest,
        pb::ProjectInfoResponse,
        Subject::Object
    );
    rpc!(
        revoke_api_key,
        "RevokeApiKey",
        pb::RevokeApiKeyRequest,
        pb::RevokeApiKeyResponse,
        Subject::Object
    );
    rpc!(
        begin_multipart_upload,
        "BeginMultipartUpload",
        pb::BeginMultipartUploadRequest,
        pb::BeginMultipartUploadResponse,
        Subject::Object
    );
    rpc!(
        begin_part,
        "BeginPart",
        pb::BeginPartRequest,
        pb::BeginPartResponse,
        Subject::Object
    );
    rpc!(
        commit_part,
        "CommitPart",
        pb::CommitPartRequest,
        pb::CommitPartResponse,
        Subject::Object
    );
    rpc!(
        list_parts,
        "ListParts",
        pb::ListPartsRequest,
        pb::ListPartsResponse,
        Subject::Object
    );
    rpc!(
        commit_multipart_upload,
        "CommitMultipartUpload",
        pb::CommitMultipartUploadRequest,
        pb::CommitMultipartUploadResponse,
        Subject::Object
    );
    rpc!(
        abort_multipart_upload,
        "AbortMultipartUpload",
        pb::AbortMultipartUploadRequest,
        pb::AbortMultipartUploadResponse,
        Subject::Object
    );
    rpc!(
        list_multipart_uploads,
        "ListMultipartUploads",
        pb::ListMultipartUploadsRequest,
        pb::ListMultipartUploadsResponse,
        Subject::Object
    );
}
