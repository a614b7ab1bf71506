//! Bodies: request bodies streamed into uplink writers ([`drain`]),
//! downloads streamed out as response bodies ([`download`]), and why a
//! request body broke ([`failure`]). Memory stays bounded by one chunk.

pub mod download;
pub mod drain;
pub mod failure;

pub use download::download_body;
pub use drain::{Sink, Written, drain};
pub use failure::{BodyFailure, BodyOrigin, BodyWatch, RawFailure, WatchedBody};
