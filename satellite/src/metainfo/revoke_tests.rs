//! RevokeApiKey over real gRPC on loopback: who may revoke what, and that
//! a revoked key and its descendants are refused from the next call on.

use satstore_common::macaroon::{ApiKey, Caveat};
use satstore_proto::metainfo as pb;
use tonic::Code;

use super::testing::{TestSatellite, code};

fn restrict(k: &ApiKey, n: u8) -> ApiKey {
    k.restrict(&Caveat {
        nonce: vec![n],
        ..Default::default()
    })
}

async fn revoke(
    sat: &mut TestSatellite,
    caller: &ApiKey,
    target: Vec<u8>,
) -> Result<(), tonic::Status> {
    sat.client
        .revoke_api_key(pb::RevokeApiKeyRequest {
            header: TestSatellite::header_for(caller),
            api_key: target,
        })
        .await
        .map(|_| ())
}

/// ListBuckets with `key`: Ok, or the code and message.
async fn works(sat: &mut TestSatellite, key: &ApiKey) -> Result<(), (Code, String)> {
    sat.client
        .list_buckets(pb::ListBucketsRequest {
            header: TestSatellite::header_for(key),
            ..Default::default()
        })
        .await
        .map(|_| ())
        .map_err(|s| (s.code(), s.message().to_string()))
}

fn revoked() -> Result<(), (Code, String)> {
    Err((Code::Unauthenticated, "API key has been revoked".into()))
}

#[tokio::test]
async fn holders_revoke_their_key_and_descendants() {
    let mut sat = TestSatellite::start().await;
    let root = sat.key.clone();
    let child = restrict(&root, 1);
    let grandchild = restrict(&child, 2);
    let sibling = restrict(&root, 3);
    let other_root =
        crate::admin::create_api_key(sat.handle.store(), &project_name(&sat).await, "second")
            .await
            .unwrap();
    let (_, foreign) = crate::admin::create_project(sat.handle.store(), "someone-else")
        .await
        .unwrap();

    // Malformed or missing target.
    let (c, m) = code(revoke(&mut sat, &root, vec![]).await);
    assert_eq!(c, Code::InvalidArgument, "{m}");
    let (c, m) = code(revoke(&mut sat, &root, vec![1, 2, 3]).await);
    assert_eq!(c, Code::InvalidArgument, "{m}");
    assert!(m.contains("malformed"), "{m}");
    // The caller's own key must be valid.
    let (c, _) = code(revoke(&mut sat, &ApiKey::new(&[1; 32]), child.to_bytes()).await);
    assert_eq!(c, Code::Unauthenticated);
    // Not an ancestor: parent, sibling; another root of the project; another project.
    for (caller, target, text) in [
        (&child, &root, "ancestors"),
        (&child, &sibling, "ancestors"),
        (&root, &other_root, "another root key"),
        (&root, &foreign, "another project"),
        (&foreign, &child, "another project"),
    ] {
        let (c, m) = code(revoke(&mut sat, caller, target.to_bytes()).await);
        assert_eq!(c, Code::PermissionDenied, "{m}");
        assert!(m.contains(text), "{text:?} not in {m:?}");
    }
    // A forged descendant does not verify.
    let mut forged = grandchild.to_bytes();
    let last = forged.len() - 1;
    forged[last] ^= 1;
    let (c, m) = code(revoke(&mut sat, &root, forged).await);
    assert_eq!(c, Code::InvalidArgument, "{m}");
    for k in [&root, &child, &grandchild, &sibling, &other_root, &foreign] {
        works(&mut sat, k).await.unwrap();
    }

    // The root revokes the child: the child and the grandchild are refused
    // on the very next call; the root and the sibling still work.
    revoke(&mut sat, &root, child.to_bytes()).await.unwrap();
    assert_eq!(works(&mut sat, &child).await, revoked());
    assert_eq!(works(&mut sat, &grandchild).await, revoked());
    works(&mut sat, &root).await.unwrap();
    works(&mut sat, &sibling).await.unwrap();
    // A revoked key cannot call RevokeApiKey any more (not even on itself).
    let (c, m) = code(revoke(&mut sat, &grandchild, grandchild.to_bytes()).await);
    assert_eq!(
        (c, m.as_str()),
        (Code::Unauthenticated, "API key has been revoked")
    );
    // Revoking again is fine (idempotent).
    revoke(&mut sat, &root, grandchild.to_bytes())
        .await
        .unwrap();

    // A key may revoke itself; then it is refused.
    revoke(&mut sat, &sibling, sibling.to_bytes())
        .await
        .unwrap();
    assert_eq!(works(&mut sat, &sibling).await, revoked());
    // Revoking the root takes everything derived from it down, but not the
    // project's other root key.
    let fresh = restrict(&root, 9);
    revoke(&mut sat, &root, root.to_bytes()).await.unwrap();
    assert_eq!(works(&mut sat, &root).await, revoked());
    assert_eq!(works(&mut sat, &fresh).await, revoked());
    works(&mut sat, &other_root).await.unwrap();
    sat.handle.shutdown().await;
}

async fn project_name(sat: &TestSatellite) -> String {
    let rec = sat
        .handle
        .store()
        .api_key_by_head(sat.key.head())
        .await
        .unwrap()
        .unwrap();
    sat.handle
        .store()
        .project_by_id(&rec.project_id)
        .await
        .unwrap()
        .unwrap()
        .name
}
