//! Errors of every layer of the node, and the one place where they become
//! gRPC statuses. Internal details (RocksDB messages) go to the log, never to
//! the client.

use std::path::PathBuf;

use satstore_common::{IdentityError, NodeId, PieceAction};
use thiserror::Error;
use tonic::Status;

/// Why the piece store refused or failed an operation.
#[derive(Debug, Error)]
pub enum StoreError {
    /// The piece is not stored (never uploaded, deleted or expired).
    #[error("piece not found")]
    NotFound,
    /// A piece with this id is already stored or being uploaded.
    #[error("piece already stored or being uploaded")]
    AlreadyExists,
    /// The upload would exceed the node's allocated space.
    #[error("not enough space: {requested} bytes requested, {free} bytes free")]
    NotEnoughSpace {
        /// Bytes the upload needs.
        requested: u64,
        /// Bytes the node can still give.
        free: u64,
    },
    /// The stored data does not match what the node recorded: disk corruption.
    #[error("stored piece data is corrupt: {0}")]
    Corrupt(String),
    /// The caller broke the writer contract (e.g. size mismatch at commit).
    #[error("invalid piece store use: {0}")]
    Invalid(String),
    /// The store was closed (node shutting down).
    #[error("piece store is closed")]
    Closed,
    /// RocksDB failed; the node operator should look at the disk and the log.
    #[error("rocksdb at {path}: {source}")]
    Db {
        /// The database directory.
        path: PathBuf,
        /// RocksDB's error.
        source: rocksdb::Error,
    },
    /// A blocking store task panicked or was cancelled.
    #[error("piece store task failed: {0}")]
    Task(String),
}

/// Why an order limit, an order or a piece hash was refused.
#[derive(Debug, Error)]
pub enum VerifyError {
    /// The first message carried no order limit.
    #[error("missing order limit")]
    MissingLimit,
    /// The order limit bytes do not decode.
    #[error("order limit malformed: {0}")]
    MalformedLimit(String),
    /// The signer does not hash to the satellite id, or the signature is bad.
    #[error("order limit signature invalid: {0}")]
    BadLimitSignature(String),
    /// The limit comes from a satellite this node does not trust.
    #[error("untrusted satellite {0}")]
    UntrustedSatellite(NodeId),
    /// The limit was issued for another storage node.
    #[error("order limit addressed to another node ({0})")]
    WrongNode(NodeId),
    /// The limit's action does not fit this RPC.
    #[error("order limit action {action} not allowed for {rpc}")]
    WrongAction {
        /// The limit's action.
        action: &'static str,
        /// The RPC it was sent to.
        rpc: &'static str,
    },
    /// Order or piece expired, or the limit was created too long ago / ahead.
    #[error("order limit expired: {0}")]
    Expired(String),
    /// The serial number was already used on this node.
    #[error("serial number already used")]
    SerialUsed,
    /// An order is not signed by the limit's uplink key, or is malformed.
    #[error("order signature invalid: {0}")]
    BadOrderSignature(String),
    /// An order carries another serial number than the limit.
    #[error("order serial number does not match the order limit")]
    OrderSerialMismatch,
    /// An order amount went down.
    #[error("order amount decreased from {previous} to {amount}")]
    OrderDecreased {
        /// The largest amount seen before.
        previous: u64,
        /// The new, smaller amount.
        amount: u64,
    },
    /// An order allows more than the limit.
    #[error("order amount {amount} exceeds the order limit of {limit} bytes")]
    OrderOverLimit {
        /// The order's amount.
        amount: u64,
        /// The limit's bytes.
        limit: u64,
    },
}

impl VerifyError {
    /// Short fixed label for the refused-limits metric.
    pub fn reason(&self) -> &'static str {
        match self {
            VerifyError::MissingLimit => "missing_limit",
            VerifyError::MalformedLimit(_) => "malformed",
            VerifyError::BadLimitSignature(_) => "bad_signature",
            VerifyError::UntrustedSatellite(_) => "untrusted_satellite",
            VerifyError::WrongNode(_) => "wrong_node",
            VerifyError::WrongAction { .. } => "wrong_action",
            VerifyError::Expired(_) => "expired",
            VerifyError::SerialUsed => "serial_used",
            VerifyError::BadOrderSignature(_)
            | VerifyError::OrderSerialMismatch
            | VerifyError::OrderDecreased { .. }
            | VerifyError::OrderOverLimit { .. } => "bad_order",
        }
    }

    /// Builds the wrong-action error for `action` under `rpc`.
    pub fn wrong_action(action: PieceAction, rpc: &'static str) -> Self {
        VerifyError::WrongAction {
            action: action.as_str(),
            rpc,
        }
    }
}

/// Why a piece upload, download or delete failed.
#[derive(Debug, Error)]
pub enum TransferError {
    /// The order limit or an order was refused.
    #[error(transparent)]
    Verify(#[from] VerifyError),
    /// The piece store refused or failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// The request is malformed (bad offsets, hash mismatch, ...).
    #[error("{0}")]
    InvalidArgument(String),
    /// The client asked for more than the order limit allows.
    #[error("{0}")]
    PermissionDenied(String),
    /// The client sent or asked for bytes beyond its signed orders.
    #[error("{0}")]
    NotCovered(String),
    /// The requested range lies beyond the piece.
    #[error("{0}")]
    OutOfRange(String),
    /// The node's own copy of the piece is corrupt.
    #[error("{0}")]
    DataLoss(String),
    /// The node is shutting down; retry on another node.
    #[error("storage node is shutting down")]
    ShuttingDown,
    /// The node or the tenant is at its maximum of concurrent transfers.
    #[error("{0}")]
    Busy(String),
    /// The client sent nothing for too long.
    #[error("no message from the client for {0:?}; transfer abandoned")]
    Idle(std::time::Duration),
    /// The order limit expired while the transfer was running.
    #[error("the order limit expired during the transfer")]
    LimitExpired,
}

/// Why the storage node could not start or check in.
#[derive(Debug, Error)]
pub enum StorageNodeError {
    /// The configuration is invalid; fix the named field.
    #[error("invalid config: {0}")]
    Config(String),
    /// The identity key in the data dir could not be loaded or created.
    #[error(transparent)]
    Identity(#[from] IdentityError),
    /// The piece store could not be opened.
    #[error("open piece store: {0}")]
    Store(#[from] StoreError),
    /// A pre-bound listener is unusable.
    #[error("listener: {0}")]
    Listener(std::io::Error),
    /// A check-in with a satellite failed; it is retried on the next interval.
    #[error("check-in with satellite {satellite} failed: {reason}")]
    CheckIn {
        /// The satellite's URL.
        satellite: String,
        /// Why it failed.
        reason: String,
    },
}

impl From<StoreError> for Status {
    fn from(e: StoreError) -> Status {
        match e {
            StoreError::NotFound => Status::not_found("piece not found"),
            StoreError::AlreadyExists => {
                Status::already_exists("piece already stored or being uploaded")
            }
            StoreError::NotEnoughSpace { requested, free } => Status::resource_exhausted(format!(
                "not enough space: {requested} bytes requested, {free} bytes free"
            )),
            StoreError::Corrupt(msg) => {
                tracing::error!(error = %msg, "stored piece corrupt");
                Status::data_loss("stored piece data is corrupt")
            }
            StoreError::Closed => Status::unavailable("storage node is shutting down"),
            e @ (StoreError::Db { .. } | StoreError::Task(_) | StoreError::Invalid(_)) => {
                tracing::error!(error = %e, "piece store failure");
                Status::internal("internal storage error on the node")
            }
        }
    }
}

impl From<VerifyError> for Status {
    fn from(e: VerifyError) -> Status {
        let msg = e.to_string();
        match e {
            VerifyError::MissingLimit | VerifyError::MalformedLimit(_) => {
                Status::invalid_argument(msg)
            }
            VerifyError::OrderDecreased { .. } => Status::invalid_argument(msg),
            VerifyError::BadLimitSignature(_)
            | VerifyError::UntrustedSatellite(_)
            | VerifyError::WrongNode(_)
            | VerifyError::WrongAction { .. }
            | VerifyError::Expired(_)
            | VerifyError::SerialUsed
            | VerifyError::BadOrderSignature(_)
            | VerifyError::OrderSerialMismatch
            | VerifyError::OrderOverLimit { .. } => Status::permission_denied(msg),
        }
    }
}

impl From<TransferError> for Status {
    fn from(e: TransferError) -> Status {
        match e {
            TransferError::Verify(v) => v.into(),
            TransferError::Store(s) => s.into(),
            TransferError::InvalidArgument(m) => Status::invalid_argument(m),
            TransferError::PermissionDenied(m) => Status::permission_denied(m),
            TransferError::NotCovered(m) => Status::resource_exhausted(m),
            TransferError::OutOfRange(m) => Status::out_of_range(m),
            TransferError::DataLoss(m) => {
                tracing::error!(error = %m, "piece data loss");
                Status::data_loss(m)
            }
            TransferError::ShuttingDown => Status::unavailable("storage node is shutting down"),
            TransferError::Busy(m) => Status::resource_exhausted(m),
            e @ (TransferError::Idle(_) | TransferError::LimitExpired) => {
                Status::deadline_exceeded(e.to_string())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tonic::Code;

    #[test]
    fn codes_follow_the_contract() {
        assert_eq!(
            Status::from(VerifyError::MissingLimit).code(),
            Code::InvalidArgument
        );
        assert_eq!(
            Status::from(VerifyError::SerialUsed).code(),
            Code::PermissionDenied
        );
        assert_eq!(
            Status::from(StoreError::NotEnoughSpace {
                requested: 2,
                free: 1
            })
            .code(),
            Code::ResourceExhausted
        );
        assert_eq!(
            Status::from(TransferError::NotCovered("x".into())).code(),
            Code::ResourceExhausted
        );
        assert_eq!(
            Status::from(StoreError::Corrupt("x".into())).code(),
            Code::DataLoss
        );
        let internal = Status::from(StoreError::Task("secret detail".into()));
        assert_eq!(internal.code(), Code::Internal);
        assert!(!internal.message().contains("secret"));
    }
}
