//! API-key revocation: storing the final tail of a key in
//! `revoked_api_key_tails` so that it and every key derived from it (whose
//! chain passes through that tail) is refused by [`crate::auth`] from the
//! next request on. Two paths: a key holder revoking a key derived from
//! its own (the `RevokeApiKey` RPC), and the operator revoking any key
//! (the admin CLI).

use satstore_common::macaroon::ApiKey;

use crate::auth::Authenticator;
use crate::error::SatelliteError;
use crate::store::Store;

/// `InvalidArgument` for a key no satellite accepts (too many caveats),
/// before any work is spent on it.
fn refuse_long(target: &ApiKey) -> Result<(), SatelliteError> {
    match crate::auth::too_many_caveats(target) {
        Some(m) => Err(SatelliteError::InvalidArgument(format!(
            "the API key to revoke is never accepted: {m}"
        ))),
        None => Ok(()),
    }
}

/// Revokes `target` on behalf of the holder of `caller` (already
/// authenticated): `target` must share `caller`'s head (same root key, so
/// same project), verify against the root secret, and have `caller`'s final
/// tail among its chain tails (the caller holds `target` or an ancestor).
/// `PermissionDenied` when it does not derive from the caller's key,
/// `InvalidArgument` when it is altered or forged.
pub async fn revoke_as_holder(
    store: &Store,
    caller: &ApiKey,
    target: &ApiKey,
) -> Result<(), SatelliteError> {
    refuse_long(target)?;
    if target.head() != caller.head() {
        let same_project = match store.api_key_by_head(target.head()).await? {
            Some(t) => store
                .api_key_by_head(caller.head())
                .await?
                .is_some_and(|c| c.project_id == t.project_id),
            None => false,
        };
        return Err(SatelliteError::PermissionDenied(if same_project {
            "the API key to revoke derives from another root key of this project; \
             revoke it with that key or ask the satellite operator"
                .into()
        } else {
            "the API key to revoke belongs to another project or was not issued by \
             this satellite; you can only revoke your key or keys derived from it"
                .into()
        }));
    }
    let (record, tails) = Authenticator::new(store.clone())
        .genuine(target)
        .await
        .map_err(|e| match e {
            SatelliteError::Unauthenticated(_) => SatelliteError::InvalidArgument(
                "the API key to revoke does not verify: it was altered or forged".into(),
            ),
            other => other,
        })?;
    if !tails.contains(caller.tail()) {
        return Err(SatelliteError::PermissionDenied(
            "your API key is neither the key to revoke nor one of its ancestors; \
             you can only revoke your key or keys derived from it"
                .into(),
        ));
    }
    store.revoke_tail(&record.id, target.tail()).await?;
    tracing::info!(
        head = %satstore_common::hex::encode(target.head()),
        caveats = target.caveats().len(),
        "API key revoked by its holder"
    );
    Ok(())
}

/// Revokes `target` as the operator: any genuine key of this satellite
/// (root or restricted). `NotFound` if its root key is unknown (never
/// issued here, or deleted), `InvalidArgument` if it does not verify.
/// Revoking twice is not an error.
pub async fn revoke_as_operator(store: &Store, target: &ApiKey) -> Result<(), SatelliteError> {
    refuse_long(target)?;
    let record = store.api_key_by_head(target.head()).await?.ok_or_else(|| {
        SatelliteError::NotFound(
            "API key not found: it was not issued by this satellite or its root key was deleted"
                .into(),
        )
    })?;
    if target.verify(&record.secret).is_none() {
        return Err(SatelliteError::InvalidArgument(
            "API key does not verify: it was altered or forged".into(),
        ));
    }
    store.revoke_tail(&record.id, target.tail()).await?;
    tracing::info!(
        head = %satstore_common::hex::encode(target.head()),
        name = %record.name,
        caveats = target.caveats().len(),
        "API key revoked by the operator"
    );
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use satstore_common::macaroon::Caveat;

    fn restrict(k: &ApiKey, n: u8) -> ApiKey {
        k.restrict(&Caveat {
            nonce: vec![n],
            ..Default::default()
        })
    }

    async fn tails_revoked(store: &Store, k: &ApiKey) -> bool {
        let rec = store.api_key_by_head(k.head()).await.unwrap().unwrap();
        store
            .any_tail_revoked(&k.verify(&rec.secret).unwrap())
            .await
            .unwrap()
    }

    #[tokio::test]
    async fn holder_revokes_itself_and_descendants_only() {
        let (store, _dir) = crate::store::testing::sqlite_store().await;
        let (_, root) = crate::admin::create_project(&store, "p").await.unwrap();
        let (_, foreign) = crate::admin::create_project(&store, "q").await.unwrap();
        let sibling_root = crate::admin::create_api_key(&store, "p", "second")
            .await
            .unwrap();
        let child = restrict(&root, 1);
        let grandchild = restrict(&child, 2);
        let other_child = restrict(&root, 3);

        // A child cannot revoke its parent or a sibling.
        let e = revoke_as_holder(&store, &child, &root).await.unwrap_err();
        assert!(
            matches!(e, SatelliteError::PermissionDenied(ref m) if m.contains("ancestors")),
            "{e}"
        );
        let e = revoke_as_holder(&store, &child, &other_child)
            .await
            .unwrap_err();
        assert!(matches!(e, SatelliteError::PermissionDenied(_)), "{e}");
        // Other root keys: same project vs another project.
        let e = revoke_as_holder(&store, &root, &sibling_root)
            .await
            .unwrap_err();
        assert!(
            matches!(e, SatelliteError::PermissionDenied(ref m) if m.contains("another root key")),
            "{e}"
        );
        let e = revoke_as_holder(&store, &root, &foreign).await.unwrap_err();
        assert!(
            matches!(e, SatelliteError::PermissionDenied(ref m) if m.contains("another project")),
            "{e}"
        );
        // A forged descendant (tail altered).
        let mut bytes = grandchild.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let forged = ApiKey::from_bytes(&bytes).unwrap();
        let e = revoke_as_holder(&store, &root, &forged).await.unwrap_err();
        assert!(matches!(e, SatelliteError::InvalidArgument(_)), "{e}");
        assert!(!tails_revoked(&store, &child).await);

        // The grandparent revokes the child: child and grandchild are out,
        // the root and the other child are not.
        revoke_as_holder(&store, &root, &child).await.unwrap();
        assert!(tails_revoked(&store, &child).await);
        assert!(tails_revoked(&store, &grandchild).await);
        assert!(!tails_revoked(&store, &root).await);
        assert!(!tails_revoked(&store, &other_child).await);
        // A key may revoke itself.
        revoke_as_holder(&store, &other_child, &other_child)
            .await
            .unwrap();
        assert!(tails_revoked(&store, &other_child).await);
        assert!(!tails_revoked(&store, &root).await);
    }

    #[tokio::test]
    async fn operator_revokes_any_genuine_key() {
        let (store, _dir) = crate::store::testing::sqlite_store().await;
        let (_, root) = crate::admin::create_project(&store, "p").await.unwrap();
        let child = restrict(&root, 1);
        let e = revoke_as_operator(&store, &ApiKey::new(&[1; 32]))
            .await
            .unwrap_err();
        assert!(matches!(e, SatelliteError::NotFound(_)), "{e}");
        let mut bytes = child.to_bytes();
        let last = bytes.len() - 1;
        bytes[last] ^= 1;
        let e = revoke_as_operator(&store, &ApiKey::from_bytes(&bytes).unwrap())
            .await
            .unwrap_err();
        assert!(matches!(e, SatelliteError::InvalidArgument(_)), "{e}");
        revoke_as_operator(&store, &child).await.unwrap();
        revoke_as_operator(&store, &child).await.unwrap();
        assert!(tails_revoked(&store, &child).await);
        assert!(!tails_revoked(&store, &root).await);
        revoke_as_operator(&store, &root).await.unwrap();
        assert!(tails_revoked(&store, &root).await);
    }

    #[tokio::test]
    async fn keys_beyond_the_caveat_limit_are_refused_without_work() {
        let (store, _dir) = crate::store::testing::sqlite_store().await;
        let (_, root) = crate::admin::create_project(&store, "p").await.unwrap();
        let mut long = root.clone();
        for i in 0..=satstore_common::macaroon::MAX_CAVEATS {
            long = restrict(&long, i as u8);
        }
        for e in [
            revoke_as_holder(&store, &root, &long).await.unwrap_err(),
            revoke_as_operator(&store, &long).await.unwrap_err(),
        ] {
            assert!(
                matches!(e, SatelliteError::InvalidArgument(ref m) if m.contains("33 caveats")),
                "{e}"
            );
        }
    }
}
