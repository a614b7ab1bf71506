//! The tonic adapter of [`MetainfoEndpoint`]: one span per call, the
//! domain call, and the error mapping of [`crate::error`].

use std::sync::Arc;

use satstore_proto::metainfo as pb;
use satstore_proto::metainfo::metainfo_server::Metainfo;
use tonic::{Request, Response, Status};
use tracing::Instrument;

use super::MetainfoEndpoint;

/// The `Metainfo` gRPC service.
#[derive(Clone)]
pub struct MetainfoService {
    endpoint: Arc<MetainfoEndpoint>,
}

impl MetainfoService {
    /// Serves `endpoint`.
    pub fn new(endpoint: Arc<MetainfoEndpoint>) -> Self {
        MetainfoService { endpoint }
    }
}

macro_rules! rpc {
    ($self:ident, $req:ident, $method:ident, $span:expr) => {{
        let span = $span;
        $self
            .endpoint
            .$method($req.into_inner())
            .instrument(span)
            .await
            .map(Response::new)
            .map_err(Status::from)
    }};
}

#[tonic::async_trait]
impl Metainfo for MetainfoService {
    async fn create_bucket(
        &self,
        r: Request<pb::CreateBucketRequest>,
    ) -> Result<Response<pb::CreateBucketResponse>, Status> {
        rpc!(
            self,
            r,
            create_bucket,
            tracing::info_span!("create_bucket", bucket = %r.get_ref().name)
        )
    }
    async fn get_bucket(
        &self,
        r: Request<pb::GetBucketRequest>,
    ) -> Result<Response<pb::GetBucketResponse>, Status> {
        rpc!(
            self,
            r,
            get_bucket,
            tracing::info_span!("get_bucket", bucket = %r.get_ref().name)
        )
    }
    async fn delete_bucket(
        &self,
        r: Request<pb::DeleteBucketRequest>,
    ) -> Result<Response<pb::DeleteBucketResponse>, Status> {
        rpc!(
            self,
            r,
            delete_bucket,
            tracing::info_span!("delete_bucket", bucket = %r.get_ref().name)
        )
    }
    async fn list_buckets(
        &self,
        r: Request<pb::ListBucketsRequest>,
    ) -> Result<Response<pb::ListBucketsResponse>, Status> {
        rpc!(self, r, list_buckets, tracing::info_span!("list_buckets"))
    }
    async fn begin_object(
        &self,
        r: Request<pb::BeginObjectRequest>,
    ) -> Result<Response<pb::BeginObjectResponse>, Status> {
        rpc!(
            self,
            r,
            begin_object,
            tracing::info_span!("begin_object", bucket = %r.get_ref().bucket)
        )
    }
    async fn begin_segment(
        &self,
        r: Request<pb::BeginSegmentRequest>,
    ) -> Result<Response<pb::BeginSegmentResponse>, Status> {
        rpc!(self, r, begin_segment, tracing::info_span!("begin_segment"))
    }
    async fn commit_segment(
        &self,
        r: Request<pb::CommitSegmentRequest>,
    ) -> Result<Response<pb::CommitSegmentResponse>, Status> {
        rpc!(
            self,
            r,
            commit_segment,
            tracing::info_span!("commit_segment")
        )
    }
    async fn make_inline_segment(
        &self,
        r: Request<pb::MakeInlineSegmentRequest>,
    ) -> Result<Response<pb::MakeInlineSegmentResponse>, Status> {
        rpc!(
            self,
            r,
            make_inline_segment,
            tracing::info_span!("make_inline_segment")
        )
    }
    async fn commit_object(
        &self,
        r: Request<pb::CommitObjectRequest>,
    ) -> Result<Response<pb::CommitObjectResponse>, Status> {
        rpc!(self, r, commit_object, tracing::info_span!("commit_object"))
    }
    async fn abort_object(
        &self,
        r: Request<pb::AbortObjectRequest>,
    ) -> Result<Response<pb::AbortObjectResponse>, Status> {
        rpc!(self, r, abort_object, tracing::info_span!("abort_object"))
    }
    async fn get_object(
        &self,
        r: Request<pb::GetObjectRequest>,
    ) -> Result<Response<pb::GetObjectResponse>, Status> {
        rpc!(
            self,
            r,
            get_object,
            tracing::info_span!("get_object", bucket = %r.get_ref().bucket)
        )
    }
    async fn download_object(
        &self,
        r: Request<pb::DownloadObjectRequest>,
    ) -> Result<Response<pb::DownloadObjectResponse>, Status> {
        rpc!(
            self,
            r,
            download_object,
            tracing::info_span!("download_object", bucket = %r.get_ref().bucket)
        )
    }
    async fn download_segment(
        &self,
        r: Request<pb::DownloadSegmentRequest>,
    ) -> Result<Response<pb::DownloadSegmentResponse>, Status> {
        rpc!(
            self,
            r,
            download_segment,
            tracing::info_span!("download_segment")
        )
    }
    async fn list_objects(
        &self,
        r: Request<pb::ListObjectsRequest>,
    ) -> Result<Response<pb::ListObjectsResponse>, Status> {
        rpc!(
            self,
            r,
            list_objects,
            tracing::info_span!("list_objects", bucket = %r.get_ref().bucket)
        )
    }
    async fn delete_object(
        &self,
        r: Request<pb::DeleteObjectRequest>,
    ) -> Result<Response<pb::DeleteObjectResponse>, Status> {
        rpc!(
            self,
            r,
            delete_object,
            tracing::info_span!("delete_object", bucket = %r.get_ref().bucket)
        )
    }
    async fn project_info(
        &self,
        r: Request<pb::ProjectInfoRequest>,
    ) -> Result<Response<pb::ProjectInfoResponse>, Status> {
        rpc!(self, r, project_info, tracing::info_span!("project_info"))
    }
    async fn revoke_api_key(
        &self,
        r: Request<pb::RevokeApiKeyRequest>,
    ) -> Result<Response<pb::RevokeApiKeyResponse>, Status> {
        rpc!(
            self,
            r,
            revoke_api_key,
            tracing::info_span!("revoke_api_key")
        )
    }
    async fn begin_multipart_upload(
        &self,
        r: Request<pb::BeginMultipartUploadRequest>,
    ) -> Result<Response<pb::BeginMultipartUploadResponse>, Status> {
        rpc!(
            self,
            r,
            begin_multipart_upload,
            tracing::info_span!("begin_multipart_upload", bucket = %r.get_ref().bucket)
        )
    }
    async fn begin_part(
        &self,
        r: Request<pb::BeginPartRequest>,
    ) -> Result<Response<pb::BeginPartResponse>, Status> {
        rpc!(
            self,
            r,
            begin_part,
            tracing::info_span!("begin_part", bucket = %bucket_of(&r.get_ref().upload), part = r.get_ref().part_number)
        )
    }
    async fn commit_part(
        &self,
        r: Request<pb::CommitPartRequest>,
    ) -> Result<Response<pb::CommitPartResponse>, Status> {
        rpc!(
            self,
            r,
            commit_part,
            tracing::info_span!("commit_part", bucket = %bucket_of(&r.get_ref().upload), part = r.get_ref().part_number)
        )
    }
    async fn list_parts(
        &self,
        r: Request<pb::ListPartsRequest>,
    ) -> Result<Response<pb::ListPartsResponse>, Status> {
        rpc!(
            self,
            r,
            list_parts,
            tracing::info_span!("list_parts", bucket = %bucket_of(&r.get_ref().upload))
        )
    }
    async fn commit_multipart_upload(
        &self,
        r: Request<pb::CommitMultipartUploadRequest>,
    ) -> Result<Response<pb::CommitMultipartUploadResponse>, Status> {
        rpc!(
            self,
            r,
            commit_multipart_upload,
            tracing::info_span!("commit_multipart_upload", bucket = %bucket_of(&r.get_ref().upload))
        )
    }
    async fn abort_multipart_upload(
        &self,
        r: Request<pb::AbortMultipartUploadRequest>,
    ) -> Result<Response<pb::AbortMultipartUploadResponse>, Status> {
        rpc!(
            self,
            r,
            abort_multipart_upload,
            tracing::info_span!("abort_multipart_upload", bucket = %bucket_of(&r.get_ref().upload))
        )
    }
    async fn list_multipart_uploads(
        &self,
        r: Request<pb::ListMultipartUploadsRequest>,
    ) -> Result<Response<pb::ListMultipartUploadsResponse>, Status> {
        rpc!(
            self,
            r,
            list_multipart_uploads,
            tracing::info_span!("list_multipart_uploads", bucket = %r.get_ref().bucket)
        )
    }
}

/// The bucket of a multipart upload reference, for spans.
fn bucket_of(r: &Option<pb::MultipartUploadRef>) -> &str {
    r.as_ref().map_or("", |r| r.bucket.as_str())
}
