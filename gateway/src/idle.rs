//! Request bodies with an idle timeout: a client that stops sending in the
//! middle of a body is cut off after `timeout` without a byte (hyper only
//! bounds the time to the request head). The clock runs only while the
//! gateway waits for the client, not while it is busy with what it got.

use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use tokio::time::{Instant, Sleep};

/// The error a body yields when the client went quiet.
#[derive(Debug, thiserror::Error)]
#[error("BodyIdleTimeout: the client sent nothing for {after:?} in the middle of the request body")]
pub struct BodyIdleTimeout {
    /// The idle time allowed.
    pub after: Duration,
}

/// Whether `e` is a [`BodyIdleTimeout`] or has one as its source (a
/// decoder that keeps only an error's text hides it: the HTTP layer's
/// [`crate::body::BodyWatch`] tells then).
pub fn is_idle_timeout(e: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = cur {
        if err.is::<BodyIdleTimeout>() {
            return true;
        }
        cur = err.source();
    }
    false
}

/// `inner` with an idle timeout between frames.
pub struct IdleTimeoutBody<B> {
    inner: B,
    timeout: Duration,
    sleep: Pin<Box<Sleep>>,
    armed: bool,
}

impl<B> IdleTimeoutBody<B> {
    /// Wraps `inner`.
    pub fn new(inner: B, timeout: Duration) -> Self {
        IdleTimeoutBody {
            inner,
            timeout,
            sleep: Box::pin(tokio::time::sleep(timeout)),
            armed: false,
        }
    }
}

impl<B> Body for IdleTimeoutBody<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: Into<Box<dyn std::error::Error + Send + Sync>>,
{
    type Data = Bytes;
    type Error = Box<dyn std::error::Error + Send + Sync>;

    fn poll_frame(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Self::Error>>> {
        let this = self.get_mut();
        match Pin::new(&mut this.inner).poll_frame(cx) {
            Poll::Ready(frame) => {
                this.armed = false;
                Poll::Ready(frame.map(|f| f.map_err(Into::into)))
            }
            Poll::Pending => {
                if !this.armed {
                    this.sleep.as_mut().reset(Instant::now() + this.timeout);
                    this.armed = true;
                }
                match this.sleep.as_mut().poll(cx) {
                    Poll::Ready(()) => Poll::Ready(Some(Err(Box::new(BodyIdleTimeout {
                        after: this.timeout,
                    })))),
                    Poll::Pending => Poll::Pending,
                }
            }
        }
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}

#[cfg(test)]
mod tests {
    use http_body_util::{BodyExt, StreamBody};

    use super::*;

    #[tokio::test]
    async fn a_quiet_client_is_cut_off_a_slow_one_is_not() {
        // Chunks every 100 ms: fine under a 400 ms idle timeout, however
        // long in all.
        let (tx, rx) = tokio::sync::mpsc::channel::<Result<Frame<Bytes>, std::io::Error>>(1);
        let body = IdleTimeoutBody::new(
            StreamBody::new(tokio_stream::wrappers::ReceiverStream::new(rx)),
            Duration::from_millis(400),
        );
        let sender = tokio::spawn(async move {
            for _ in 0..5 {
                tokio::time::sleep(Duration::from_millis(100)).await;
                tx.send(Ok(Frame::data(Bytes::from_static(b"x"))))
                    .await
                    .unwrap();
            }
            // Then silence, with the connection still open.
            tokio::time::sleep(Duration::from_secs(3600)).await;
            drop(tx);
        });
        let mut body = body;
        let started = std::time::Instant::now();
        let mut got = 0;
        let err = loop {
            match body.frame().await {
                Some(Ok(_)) => got += 1,
                Some(Err(e)) => break e,
                None => panic!("the body ended instead of timing out"),
            }
        };
        assert_eq!(got, 5);
        assert!(is_idle_timeout(err.as_ref()), "{err:?}");
        assert!(started.elapsed() < Duration::from_secs(5));
        sender.abort();
    }
}
