//! Storage nodes known to the satellite (the overlay's table).

use std::time::Duration;

use satstore_common::NodeId;
use satstore_common::time::now_unix;
use sqlx::Row;
use sqlx::any::AnyRow;

use super::{Store, StoreError};

/// A storage node as last seen.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct NodeRecord {
    /// Node id (hash of its public key).
    pub id: NodeId,
    /// `host:port` of its gRPC endpoint.
    pub address: String,
    /// Its ed25519 public key.
    pub public_key: Vec<u8>,
    /// Free space it reported, in bytes.
    pub free_disk: i64,
    /// Software version it reported.
    pub version: String,
    /// First check-in (unix seconds).
    pub created_at: i64,
    /// Last successful check-in with dial-back (unix seconds).
    pub last_contact_success: i64,
    /// Last failed dial-back (unix seconds, 0 = never).
    pub last_contact_failure: i64,
    /// When it was disqualified, if ever.
    pub disqualified_at: Option<i64>,
    /// Pieces it holds (maintained by later issues).
    pub piece_count: i64,
}

impl NodeRecord {
    /// Whether the node checked in successfully within `window` of `now`
    /// and has not failed a dial-back since.
    pub fn is_online(&self, window: Duration, now: i64) -> bool {
        self.disqualified_at.is_none()
            && self.last_contact_success >= now - window.as_secs() as i64
            && self.last_contact_success > self.last_contact_failure
    }
}

const NODE_COLUMNS: &str = "id, address, public_key, free_disk, version, created_at, \
    last_contact_success, last_contact_failure, disqualified_at, piece_count";

fn node_from_row(row: &AnyRow) -> Result<NodeRecord, StoreError> {
    let id: Vec<u8> = row.try_get("id")?;
    Ok(NodeRecord {
        id: NodeId::from_slice(&id).map_err(|e| StoreError::corrupt("node id", e))?,
        address: row.try_get("address")?,
        public_key: row.try_get("public_key")?,
        free_disk: row.try_get("free_disk")?,
        version: row.try_get("version")?,
        created_at: row.try_get("created_at")?,
        last_contact_success: row.try_get("last_contact_success")?,
        last_contact_failure: row.try_get("last_contact_failure")?,
        disqualified_at: row.try_get("disqualified_at")?,
        piece_count: row.try_get("piece_count")?,
    })
}

/// What a successful check-in reports.
#[derive(Clone, Debug)]
pub struct CheckIn {
    /// Node id.
    pub id: NodeId,
    /// `host:port`.
    pub address: String,
    /// Its public key.
    pub public_key: Vec<u8>,
    /// Free space in bytes.
    pub free_disk: i64,
    /// Software version.
    pub version: String,
    /// The check-in's own timestamp (unix milliseconds).
    pub check_in_ms: i64,
}

impl Store {
    /// Claims check-in timestamp `ts_ms` for `id`: true if it is later than
    /// the last one accepted (or the node is new), false for a replay or an
    /// older check-in.
    pub async fn claim_check_in(&self, id: &NodeId, ts_ms: i64) -> Result<bool, StoreError> {
        let r = sqlx::query(
            "UPDATE nodes SET last_check_in_ms = $1 WHERE id = $2 AND last_check_in_ms < $1",
        )
        .bind(ts_ms)
        .bind(id.as_bytes().to_vec())
        .execute(self.pool())
        .await?;
        if r.rows_affected() == 1 {
            return Ok(true);
        }
        let known = sqlx::query("SELECT id FROM nodes WHERE id = $1")
            .bind(id.as_bytes().to_vec())
            .fetch_optional(self.pool())
            .await?;
        Ok(known.is_none())
    }

    /// Records a successful check-in at `now` (inserting new nodes). A
    /// failure recorded in the same second is moved before it, so the
    /// latest event wins.
    pub async fn record_check_in(&self, c: &CheckIn, now: i64) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO nodes (id, address, public_key, free_disk, version, created_at, \
             last_contact_success, last_contact_failure, disqualified_at, piece_count, \
             last_check_in_ms) \
             VALUES ($1, $2, $3, $4, $5, $6, $6, 0, NULL, 0, $7) \
             ON CONFLICT (id) DO UPDATE SET address = excluded.address, \
             last_check_in_ms = CASE WHEN nodes.last_check_in_ms > excluded.last_check_in_ms \
             THEN nodes.last_check_in_ms ELSE excluded.last_check_in_ms END, \
             public_key = excluded.public_key, free_disk = excluded.free_disk, \
             version = excluded.version, last_contact_success = excluded.last_contact_success, \
             last_contact_failure = CASE WHEN nodes.last_contact_failure >= excluded.last_contact_success \
             THEN excluded.last_contact_success - 1 ELSE nodes.last_contact_failure END",
        )
        .bind(c.id.as_bytes().to_vec())
        .bind(c.address.clone())
        .bind(c.public_key.clone())
        .bind(c.free_disk)
        .bind(c.version.clone())
        .bind(now)
        .bind(c.check_in_ms)
        .execute(self.pool())
        .await?;
        Ok(())
    }

    /// Records a failed dial-back of a known node (unknown nodes are not
    /// inserted).
    pub async fn record_contact_failure(&self, id: &NodeId, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE nodes SET last_contact_failure = $1 WHERE id = $2")
            .bind(now)
            .bind(id.as_bytes().to_vec())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Marks a node disqualified (it is never selected again).
    pub async fn disqualify_node(&self, id: &NodeId, now: i64) -> Result<(), StoreError> {
        sqlx::query("UPDATE nodes SET disqualified_at = $1 WHERE id = $2")
            .bind(now)
            .bind(id.as_bytes().to_vec())
            .execute(self.pool())
            .await?;
        Ok(())
    }

    /// Nodes not disqualified whose last successful contact is within
    /// `window` of now and newer than their last failure.
    pub async fn online_nodes(&self, window: Duration) -> Result<Vec<NodeRecord>, StoreError> {
        let since = now_unix() - window.as_secs() as i64;
        let sql = sqlx::AssertSqlSafe(format!(
            "SELECT {NODE_COLUMNS} FROM nodes WHERE disqualified_at IS NULL \
             AND last_contact_success >= $1 AND last_contact_success > last_contact_failure \
             ORDER BY id"
        ));
        let rows = sqlx::query(sql).bind(since).fetch_all(self.pool()).await?;
        rows.iter().map(node_from_row).collect()
    }

    /// The known nodes among `ids` (unknown ids are skipped).
    pub async fn nodes_by_ids(&self, ids: &[NodeId]) -> Result<Vec<NodeRecord>, StoreError> {
        let sql = format!("SELECT {NODE_COLUMNS} FROM nodes WHERE id = $1");
        let mut out = Vec::with_capacity(ids.len());
        for id in ids {
            let row = sqlx::query(sqlx::AssertSqlSafe(sql.clone()))
                .bind(id.as_bytes().to_vec())
                .fetch_optional(self.pool())
                .await?;
            if let Some(row) = row {
                out.push(node_from_row(&row)?);
            }
        }
        Ok(out)
    }

    /// Number of nodes known in total.
    pub async fn node_count(&self) -> Result<i64, StoreError> {
        Ok(sqlx::query("SELECT COUNT(*) AS n FROM nodes")
            .fetch_one(self.pool())
            .await?
            .try_get("n")?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn check_in_failure_and_online_window() {
        for (store, _dir) in crate::store::testing::all_stores().await {
            let id = NodeId::from_public_key(&rand::random());
            let c = CheckIn {
                id,
                address: "127.0.0.1:1".into(),
                public_key: vec![1; 32],
                free_disk: 1 << 30,
                version: "0.1.0".into(),
                check_in_ms: 1000,
            };
            let now = now_unix();
            let before = store.node_count().await.unwrap();
            store.record_check_in(&c, now).await.unwrap();
            assert_eq!(store.node_count().await.unwrap(), before + 1);
            let online = store.online_nodes(Duration::from_secs(3600)).await.unwrap();
            let n = online.iter().find(|n| n.id == id).expect("node online");
            assert_eq!(n.address, "127.0.0.1:1");
            assert!(n.is_online(Duration::from_secs(3600), now));

            // An address change is picked up.
            let moved = CheckIn {
                address: "127.0.0.1:2".into(),
                ..c.clone()
            };
            store.record_check_in(&moved, now).await.unwrap();
            let got = store
                .nodes_by_ids(&[id, NodeId::from_public_key(&[0; 32])])
                .await
                .unwrap();
            assert_eq!(got.len(), 1);
            assert_eq!(got[0].address, "127.0.0.1:2");

            // Check-in timestamps only grow: a replay or an older one is refused.
            assert!(!store.claim_check_in(&id, 1000).await.unwrap());
            assert!(!store.claim_check_in(&id, 999).await.unwrap());
            assert!(store.claim_check_in(&id, 1001).await.unwrap());
            assert!(!store.claim_check_in(&id, 1001).await.unwrap());
            let unknown = NodeId::from_public_key(&rand::random());
            assert!(store.claim_check_in(&unknown, 5).await.unwrap());

            // A later failure takes it offline until the next success.
            store.record_contact_failure(&id, now + 1).await.unwrap();
            let online = store.online_nodes(Duration::from_secs(3600)).await.unwrap();
            assert!(!online.iter().any(|n| n.id == id));
            store.record_check_in(&c, now + 2).await.unwrap();
            assert!(
                store
                    .online_nodes(Duration::from_secs(3600))
                    .await
                    .unwrap()
                    .iter()
                    .any(|n| n.id == id)
            );

            // Stale contact is outside the window; disqualified nodes never count.
            let old = NodeId::from_public_key(&rand::random());
            store
                .record_check_in(
                    &CheckIn {
                        id: old,
                        ..c.clone()
                    },
                    now - 7200,
                )
                .await
                .unwrap();
            assert!(
                !store
                    .online_nodes(Duration::from_secs(3600))
                    .await
                    .unwrap()
                    .iter()
                    .any(|n| n.id == old)
            );
            store.disqualify_node(&id, now).await.unwrap();
            assert!(
                !store
                    .online_nodes(Duration::from_secs(3600))
                    .await
                    .unwrap()
                    .iter()
                    .any(|n| n.id == id)
            );
        }
    }
}
