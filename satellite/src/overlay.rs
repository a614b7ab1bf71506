//! The overlay: which storage nodes to use. Uploads get distinct online
//! nodes with free space in random order; downloads get the holders of a
//! segment's pieces, online ones first.

use std::time::Duration;

use rand::seq::SliceRandom;
use satstore_common::NodeId;
use satstore_common::time::now_unix;

use crate::error::SatelliteError;
use crate::store::{NodeRecord, Store};

/// Node selection over the store's node table.
#[derive(Clone, Debug)]
pub struct Overlay {
    store: Store,
    online_window: Duration,
    min_free_disk: u64,
}

impl Overlay {
    /// An overlay counting nodes seen within `online_window` as online and
    /// skipping nodes reporting less than `min_free_disk` bytes free.
    pub fn new(store: Store, online_window: Duration, min_free_disk: u64) -> Self {
        Overlay {
            store,
            online_window,
            min_free_disk,
        }
    }

    /// Nodes online now and not disqualified.
    pub async fn online(&self) -> Result<Vec<NodeRecord>, SatelliteError> {
        Ok(self.store.online_nodes(self.online_window).await?)
    }

    /// Up to `total` distinct online nodes with enough free space, in random
    /// order; at least `success` or `Unavailable`.
    pub async fn select_for_upload(
        &self,
        total: usize,
        success: usize,
    ) -> Result<Vec<NodeRecord>, SatelliteError> {
        let mut nodes: Vec<NodeRecord> = self
            .online()
            .await?
            .into_iter()
            .filter(|n| n.free_disk >= 0 && n.free_disk as u64 >= self.min_free_disk)
            .collect();
        if nodes.len() < success {
            return Err(SatelliteError::NotEnoughNodes(format!(
                "not enough storage nodes online (have {}, need {success})",
                nodes.len()
            )));
        }
        nodes.shuffle(&mut rand::rng());
        nodes.truncate(total);
        Ok(nodes)
    }

    /// The known nodes among `ids`: online ones first (shuffled), then the
    /// others (shuffled).
    pub async fn order_for_download(
        &self,
        ids: &[NodeId],
    ) -> Result<Vec<NodeRecord>, SatelliteError> {
        let now = now_unix();
        let (mut online, mut offline): (Vec<_>, Vec<_>) = self
            .store
            .nodes_by_ids(ids)
            .await?
            .into_iter()
            .partition(|n| n.is_online(self.online_window, now));
        let mut rng = rand::rng();
        online.shuffle(&mut rng);
        offline.shuffle(&mut rng);
        online.extend(offline);
        Ok(online)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::nodes::CheckIn;

    async fn add(store: &Store, free: i64, at: i64) -> NodeId {
        let id = NodeId::from_public_key(&rand::random());
        let c = CheckIn {
            id,
            address: "127.0.0.1:9".into(),
            public_key: vec![0; 32],
            free_disk: free,
            version: "t".into(),
            check_in_ms: 0,
        };
        store.record_check_in(&c, at).await.unwrap();
        id
    }

    #[tokio::test]
    async fn selection_respects_online_space_and_counts() {
        let (store, _dir) = crate::store::testing::sqlite_store().await;
        let now = now_unix();
        let mut good = Vec::new();
        for _ in 0..3 {
            good.push(add(&store, 1000, now).await);
        }
        let small = add(&store, 10, now).await;
        let stale = add(&store, 1000, now - 10_000).await;
        let overlay = Overlay::new(store.clone(), Duration::from_secs(3600), 100);

        let picked = overlay.select_for_upload(5, 2).await.unwrap();
        assert_eq!(picked.len(), 3);
        assert!(picked.iter().all(|n| good.contains(&n.id)));
        assert_eq!(overlay.select_for_upload(2, 2).await.unwrap().len(), 2);
        let err = overlay.select_for_upload(5, 4).await.unwrap_err();
        assert!(
            matches!(err, SatelliteError::NotEnoughNodes(ref m) if m.contains("have 3, need 4")),
            "{err}"
        );

        let order = overlay
            .order_for_download(&[stale, good[0], small, NodeId::from_public_key(&[9; 32])])
            .await
            .unwrap();
        assert_eq!(order.len(), 3);
        assert_eq!(order[2].id, stale);
    }
}
