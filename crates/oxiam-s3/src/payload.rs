//! A request body checked against the SHA-256 its signature names, for the bodies s3s reads
//! whole (DeleteObjects' list, CompleteMultipartUpload's parts, bucket configurations):
//! s3s notices a mismatch there too, but answers it as its own 500 (InternalError). The
//! check here sees the same bytes pass and remembers, so that the endpoint answers S3's
//! `XAmzContentSHA256Mismatch` (400) instead. Uploads (PutObject, UploadPart) are larger and
//! their mismatch reaches oxiam's handlers with its cause (`errors::body_failed`):
//! only bodies up to [`crate::XML_MAX_BODY_BYTES`] are hashed a second time.

use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body::{Body, Frame, SizeHint};
use sha2::{Digest as _, Sha256};

/// Whether a checked body turned out not to be what its signature names.
#[derive(Debug, Clone, Default)]
pub(crate) struct Mismatch(Arc<AtomicBool>);

impl Mismatch {
    pub(crate) fn found(&self) -> bool {
        self.0.load(Ordering::Acquire)
    }
}

/// The SHA-256 a request signs its body with, when it names one (not `UNSIGNED-PAYLOAD`,
/// not a streaming signature) and its body is small enough to be one s3s reads whole.
pub(crate) fn signed_sha256(headers: &http::HeaderMap) -> Option<[u8; 32]> {
    let length: u64 = headers.get(http::header::CONTENT_LENGTH)?.to_str().ok()?.parse().ok()?;
    if length > crate::XML_MAX_BODY_BYTES as u64 {
        return None;
    }
    oxiam_sigv4::decode_hex_32(headers.get("x-amz-content-sha256")?.to_str().ok()?)
}

/// `inner`, hashed as it passes; at its end, [`Mismatch`] says whether it was `expected`.
pub(crate) struct Checked<B> {
    inner: B,
    hasher: Option<Sha256>,
    expected: [u8; 32],
    mismatch: Mismatch,
}

impl<B: Body> Checked<B> {
    pub(crate) fn new(inner: B, expected: [u8; 32]) -> (Self, Mismatch) {
        let mismatch = Mismatch::default();
        let mut checked = Self {
            inner,
            hasher: Some(Sha256::new()),
            expected,
            mismatch: mismatch.clone(),
        };
        // An empty body is never polled (s3s's hash of it is done before it would be).
        if checked.inner.is_end_stream() {
            checked.finish();
        }
        (checked, mismatch)
    }

    fn finish(&mut self) {
        if let Some(hasher) = self.hasher.take()
            && hasher.finalize().as_slice() != self.expected
        {
            self.mismatch.0.store(true, Ordering::Release);
        }
    }
}

impl<B> Body for Checked<B>
where
    B: Body<Data = Bytes> + Unpin,
{
    type Data = Bytes;
    type Error = B::Error;

    fn poll_frame(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<Result<Frame<Bytes>, B::Error>>> {
        let this = &mut *self;
        let polled = Pin::new(&mut this.inner).poll_frame(cx);
        match &polled {
            Poll::Ready(Some(Ok(frame))) => {
                if let (Some(data), Some(hasher)) = (frame.data_ref(), this.hasher.as_mut()) {
                    hasher.update(data);
                }
                if this.inner.is_end_stream() {
                    this.finish();
                }
            }
            Poll::Ready(None) => this.finish(),
            _ => {}
        }
        polled
    }

    fn is_end_stream(&self) -> bool {
        self.inner.is_end_stream()
    }

    fn size_hint(&self) -> SizeHint {
        self.inner.size_hint()
    }
}
