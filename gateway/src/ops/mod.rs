//! The S3 operations Satstore serves, one module per verb or family:
//! [`get`] (GetObject, HeadObject), [`put`], [`copy`], [`delete`],
//! [`list`], [`multipart`], [`acl`], [`cors`] and [`buckets`], with what
//! several share: [`stat`] (looking an object up) and [`upload`] (writing
//! one). This file only routes s3s's trait methods to them. Operations not
//! listed answer NotImplemented (s3s's default).

mod acl;
mod buckets;
mod copy;
mod cors;
mod delete;
mod get;
mod list;
mod multipart;
mod put;
mod stat;
mod upload;

use s3s::dto::*;
use s3s::{S3, S3Request, S3Response, S3Result};

use crate::state::Gateway;

macro_rules! route {
    ($($name:ident($input:ty) -> $output:ty => $handler:path;)*) => {
        #[async_trait::async_trait]
        impl S3 for Gateway {
            $(
                async fn $name(&self, req: S3Request<$input>) -> S3Result<S3Response<$output>> {
                    $handler(self, req).await
                }
            )*
        }
    };
}

route! {
    list_buckets(ListBucketsInput) -> ListBucketsOutput => buckets::list;
    create_bucket(CreateBucketInput) -> CreateBucketOutput => buckets::create;
    head_bucket(HeadBucketInput) -> HeadBucketOutput => buckets::head;
    get_bucket_location(GetBucketLocationInput) -> GetBucketLocationOutput => buckets::location;
    delete_bucket(DeleteBucketInput) -> DeleteBucketOutput => buckets::delete;
    put_object(PutObjectInput) -> PutObjectOutput => put::put;
    get_object(GetObjectInput) -> GetObjectOutput => get::get;
    head_object(HeadObjectInput) -> HeadObjectOutput => get::head;
    delete_object(DeleteObjectInput) -> DeleteObjectOutput => delete::delete;
    delete_objects(DeleteObjectsInput) -> DeleteObjectsOutput => delete::delete_many;
    copy_object(CopyObjectInput) -> CopyObjectOutput => copy::copy;
    list_objects(ListObjectsInput) -> ListObjectsOutput => list::list_v1;
    list_objects_v2(ListObjectsV2Input) -> ListObjectsV2Output => list::list_v2;
    create_multipart_upload(CreateMultipartUploadInput) -> CreateMultipartUploadOutput => multipart::create;
    upload_part(UploadPartInput) -> UploadPartOutput => multipart::upload_part;
    complete_multipart_upload(CompleteMultipartUploadInput) -> CompleteMultipartUploadOutput => multipart::complete;
    abort_multipart_upload(AbortMultipartUploadInput) -> AbortMultipartUploadOutput => multipart::abort;
    list_parts(ListPartsInput) -> ListPartsOutput => multipart::list_parts;
    list_multipart_uploads(ListMultipartUploadsInput) -> ListMultipartUploadsOutput => multipart::list_uploads;
    get_bucket_acl(GetBucketAclInput) -> GetBucketAclOutput => acl::get_bucket;
    put_bucket_acl(PutBucketAclInput) -> PutBucketAclOutput => acl::put_bucket;
    get_object_acl(GetObjectAclInput) -> GetObjectAclOutput => acl::get_object;
    put_object_acl(PutObjectAclInput) -> PutObjectAclOutput => acl::put_object;
    put_bucket_cors(PutBucketCorsInput) -> PutBucketCorsOutput => cors::put;
    get_bucket_cors(GetBucketCorsInput) -> GetBucketCorsOutput => cors::get;
    delete_bucket_cors(DeleteBucketCorsInput) -> DeleteBucketCorsOutput => cors::delete;
}
