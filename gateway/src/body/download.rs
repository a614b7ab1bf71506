//! Downloads streamed out as response bodies.

use bytes::Bytes;
use s3s::dto::StreamingBlob;
use uplink::Download;

/// A response body that hands the download's verified chunks to the
/// client without copying, reading a few chunks ahead (a task reads; the
/// body drains a small channel), and stops reading when the client goes
/// away.
pub fn download_body(mut download: Download) -> StreamingBlob {
    let (tx, rx) = tokio::sync::mpsc::channel::<Result<Bytes, std::io::Error>>(4);
    tokio::spawn(async move {
        loop {
            match download.read_chunk().await {
                Ok(Some(chunk)) => {
                    if tx.send(Ok(chunk)).await.is_err() {
                        break; // the client went away
                    }
                }
                Ok(None) => break,
                Err(e) => {
                    tracing::warn!(error = %e, "download failed mid-stream");
                    let _ = tx.send(Err(std::io::Error::other(e.to_string()))).await;
                    return;
                }
            }
        }
        let _ = download.close().await;
    });
    StreamingBlob::wrap(tokio_stream::wrappers::ReceiverStream::new(rx))
}
