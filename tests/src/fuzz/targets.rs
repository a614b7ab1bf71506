//! The offline fuzz targets: every parser that takes bytes a peer sent,
//! seeded with real encodings.

use std::str::FromStr;

use satellite::tokens::TokenSigner;
use satstore_common::contact::{CheckInInfo, PingProof};
use satstore_common::macaroon::{ApiKey, Caveat};
use satstore_common::signing::{Canonical, SigningKeyPair};
use satstore_common::{
    Identity, NodeId, NodeUrl, Order, OrderLimit, PieceAction, PieceHash, PieceId, SerialNumber,
    SignedMessage,
};
use satstore_proto::internal::{SegmentIdPayload, StreamIdPayload};

use super::Target;

fn limit(sat: &Identity) -> OrderLimit {
    OrderLimit {
        serial_number: SerialNumber::new(1_900_000_000),
        satellite_id: sat.id(),
        storage_node_id: NodeId::from_public_key(&[2; 32]),
        piece_id: PieceId::random(),
        action: PieceAction::Put,
        limit: 1 << 20,
        piece_expiration: 0,
        order_creation: 1_800_000_000,
        order_expiration: 1_900_000_000,
        uplink_public_key: SigningKeyPair::generate().public_key(),
        tenant: [3; 16],
        encrypted_metadata: vec![1; 40],
    }
}

/// Signed envelopes and the canonical messages inside them, as a node or
/// a satellite receives them: decode, verify, decode the payload.
fn signed_messages() -> Target {
    let sat = Identity::generate(0);
    let l = limit(&sat);
    let key = SigningKeyPair::generate();
    let seeds = vec![
        sat.keys().sign(&l).to_bytes(),
        key.sign(&Order {
            serial_number: l.serial_number,
            amount: 4096,
        })
        .to_bytes(),
        key.sign(&PieceHash {
            piece_id: l.piece_id,
            hash: [9; 32],
            piece_size: 1234,
            timestamp: 1_800_000_000,
        })
        .to_bytes(),
        sat.keys()
            .sign(&CheckInInfo {
                address: "127.0.0.1:7777".into(),
                free_disk: 1 << 30,
                version: "0.1.0".into(),
                timestamp_ms: 1_800_000_000_000,
            })
            .to_bytes(),
        sat.keys()
            .sign(&PingProof { challenge: [5; 32] })
            .to_bytes(),
    ];
    let sat_id = sat.id();
    let uplink = key.public_key();
    Target {
        name: "signed-messages",
        seeds,
        run: Box::new(move |b| {
            let Ok(m) = SignedMessage::from_bytes(b) else {
                return;
            };
            let _ = m.verify::<OrderLimit>(&sat_id);
            let _ = m.verify_with_key::<Order>(&uplink);
            let _ = m.verify_with_key::<PieceHash>(&uplink);
            let _ = m.verify::<CheckInInfo>(&sat_id);
            let _ = m.verify::<PingProof>(&sat_id);
            // The payload alone, as a node decodes a limit before checking
            // its signer.
            let _ = m.decode_unverified::<OrderLimit>();
            let _ = OrderLimit::decode(&m.payload);
            let _ = Order::decode(&m.payload);
            let _ = PieceHash::decode(&m.payload);
            let _ = CheckInInfo::decode(&m.payload);
            let _ = PingProof::decode(&m.payload);
        }),
    }
}

/// Raw canonical payloads (no envelope).
fn canonical_payloads() -> Target {
    let sat = Identity::generate(0);
    let l = limit(&sat);
    Target {
        name: "canonical-payloads",
        seeds: vec![
            l.encode(),
            CheckInInfo {
                address: "node.example:28967".into(),
                free_disk: 7,
                version: "1".into(),
                timestamp_ms: 1,
            }
            .encode(),
        ],
        run: Box::new(|b| {
            let _ = OrderLimit::decode(b);
            let _ = CheckInInfo::decode(b);
            let _ = Order::decode(b);
            let _ = PieceHash::decode(b);
            let _ = PingProof::decode(b);
        }),
    }
}

/// API keys as the satellite reads them from every request header.
fn macaroons() -> Target {
    let secret = [7u8; 32];
    let root = ApiKey::new(&secret);
    let restricted = root.restrict(&Caveat {
        disallow_writes: true,
        allowed_paths: vec![("bkt".into(), b"prefix/".to_vec())],
        not_after: 1_900_000_000,
        ..Default::default()
    });
    let caveat = Caveat {
        disallow_deletes: true,
        allowed_paths: vec![("a".into(), vec![1, 2, 3]), ("b".into(), vec![])],
        not_before: 5,
        ..Default::default()
    };
    Target {
        name: "macaroons",
        seeds: vec![root.to_bytes(), restricted.to_bytes(), caveat.encode()],
        run: Box::new(move |b| {
            if let Ok(k) = ApiKey::from_bytes(b) {
                let _ = k.verify(&secret);
                for c in k.caveats() {
                    let _ = Caveat::decode(c);
                }
                let _ = ApiKey::parse(&k.serialize());
            }
            let _ = Caveat::decode(b);
            let _ = ApiKey::parse(&String::from_utf8_lossy(b));
        }),
    }
}

/// Access grants as the gateway's registration and the uplink read them:
/// the payload is mutated, then re-wrapped in valid base58check so that
/// the mutations reach the decoders.
fn access_grants() -> Target {
    let sat = Identity::generate(0);
    let key = ApiKey::new(&[1; 32]);
    let store = uplink::encryption::store::EncryptionStore::new(
        uplink::encryption::keys::Key::from_bytes([4; 32]),
        uplink::encryption::path::PathCipher::AesGcm,
    );
    let access = uplink::Access::new(
        NodeUrl {
            id: sat.id(),
            address: "127.0.0.1:7777".into(),
        },
        key,
        store,
    );
    let restricted = access
        .share(
            &uplink::Permission::read_only(),
            &[uplink::SharePrefix {
                bucket: "photos".into(),
                prefix: "2026/".into(),
            }],
        )
        .expect("share");
    let payload = |a: &uplink::Access| {
        bs58::decode(a.serialize())
            .with_check(Some(0))
            .into_vec()
            .expect("own grant decodes")[1..]
            .to_vec()
    };
    Target {
        name: "access-grants",
        seeds: vec![payload(&access), payload(&restricted)],
        run: Box::new(|b| {
            let text = bs58::encode(b).with_check_version(0).into_string();
            if let Ok(a) = uplink::Access::parse(&text) {
                let _ = a.serialize();
            }
            let _ = uplink::Access::parse(&String::from_utf8_lossy(b));
        }),
    }
}

/// Satellite tokens handed back by clients (stream and segment ids).
fn tokens() -> Target {
    let sat = Identity::generate(0);
    let signer = TokenSigner::new(sat.clone());
    let stream = StreamIdPayload {
        project_id: vec![1; 16],
        bucket: "bkt".into(),
        encrypted_key: b"key".to_vec(),
        version: 1,
        stream_id: vec![2; 16],
        created_at_unix: 1_800_000_000,
        ..Default::default()
    };
    let segment = SegmentIdPayload {
        stream: Some(stream.clone()),
        index: 3,
        created_at_unix: 1_800_000_000,
        ..Default::default()
    };
    Target {
        name: "satellite-tokens",
        seeds: vec![signer.sign_stream(&stream), signer.sign_segment(&segment)],
        run: Box::new(move |b| {
            let _ = signer.verify_stream(b, 1_800_000_001);
            let _ = signer.verify_segment(b, 1_800_000_001);
        }),
    }
}

/// Text forms: peer addresses, ids, sizes and durations (config and wire).
fn text_forms() -> Target {
    let id = Identity::generate(0).id();
    Target {
        name: "text-forms",
        seeds: vec![
            format!("{id}@127.0.0.1:7777").into_bytes(),
            id.to_string().into_bytes(),
            b"64 MiB".to_vec(),
            b"1h30m".to_vec(),
            b"[::1]:7777".to_vec(),
        ],
        run: Box::new(|b| {
            let s = String::from_utf8_lossy(b);
            let _ = NodeUrl::from_str(&s);
            let _ = NodeId::from_str(&s);
            let _ = PieceId::from_str(&s);
            let _ = satstore_common::config::ByteSize::from_str(&s);
            let _ = satstore_common::config::parse_duration(&s);
            let _ = satstore_common::hex::decode(&s);
        }),
    }
}

/// Encrypted object keys and metadata as an uplink reads them back from a
/// satellite (which could be hostile).
fn uplink_decoders() -> Target {
    let meta = uplink::encryption::metadata::ObjectMetadata {
        content_type: "text/plain".into(),
        custom: [("a".to_string(), "b".to_string())].into(),
        ..Default::default()
    };
    Target {
        name: "uplink-decoders",
        seeds: vec![meta.encode().expect("encode metadata"), {
            let mut out = Vec::new();
            uplink::encryption::path::encode_component(b"photos/2026\x00\xff", &mut out);
            out
        }],
        run: Box::new(|b| {
            let _ = uplink::encryption::metadata::ObjectMetadata::decode(b);
            let _ = uplink::encryption::path::decode_component(b);
        }),
    }
}

/// Every offline target.
pub fn all() -> Vec<Target> {
    vec![
        signed_messages(),
        canonical_payloads(),
        macaroons(),
        access_grants(),
        tokens(),
        text_forms(),
        uplink_decoders(),
        super::gateway::parsers(),
    ]
}
