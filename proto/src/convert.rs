//! Conversions between wire envelopes and `common`'s signed messages. The
//! envelope is converted field for field; verification happens afterwards,
//! on the receiving side, with `SignedMessage::verify*`.

use satstore_common::SignedMessage;

use crate::common::Signed;

impl From<SignedMessage> for Signed {
    fn from(m: SignedMessage) -> Self {
        Signed {
            payload: m.payload,
            signature: m.signature,
            signer: m.signer,
        }
    }
}

impl From<Signed> for SignedMessage {
    fn from(s: Signed) -> Self {
        SignedMessage {
            payload: s.payload,
            signature: s.signature,
            signer: s.signer,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelope_round_trips() {
        let m = SignedMessage {
            payload: vec![1, 2],
            signature: vec![3],
            signer: vec![4, 5, 6],
        };
        assert_eq!(SignedMessage::from(Signed::from(m.clone())), m);
    }
}
