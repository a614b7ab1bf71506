//! The wire contracts of Satstore: protobuf messages and tonic clients and
//! servers generated from `proto/*.proto`. Nothing else lives here.

#![allow(clippy::all, missing_docs, unused_qualifications)]

/// Shared messages: signed envelopes, redundancy, request headers.
pub mod common {
    /// Version 1 of the contract.
    pub mod v1 {
        tonic::include_proto!("common.v1");
    }
    pub use v1::*;
}

/// Storage-node API: piece upload, download, delete, and the contact ping.
pub mod piecestore {
    /// Version 1 of the contract.
    pub mod v1 {
        tonic::include_proto!("piecestore.v1");
    }
    pub use v1::*;
}

/// Satellite API for storage nodes: check-in and order settlement.
pub mod node {
    /// Version 1 of the contract.
    pub mod v1 {
        tonic::include_proto!("node.v1");
    }
    pub use v1::*;
}

/// Satellite API for uplinks: buckets, objects, segments.
pub mod metainfo {
    /// Version 1 of the contract.
    pub mod v1 {
        tonic::include_proto!("metainfo.v1");
    }
    pub use v1::*;
}

/// Satellite-internal token payloads (opaque to clients).
pub mod internal {
    /// Version 1 of the contract.
    pub mod v1 {
        tonic::include_proto!("internal.v1");
    }
    pub use v1::*;
}

pub use prost::Message;

mod convert;

pub mod errors;

/// Access grants: the serialized form of what a client needs to connect.
pub mod access {
    /// Version 1 of the contract.
    pub mod v1 {
        tonic::include_proto!("access.v1");
    }
    pub use v1::*;
}
