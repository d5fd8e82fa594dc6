//! The gateway reads each request's head itself before hyper does. hyper answers a head it
//! cannot parse (a request target over 64 KiB, a NUL byte in a header value, a bad
//! `Content-Length`) with an empty `400`/`414`/`431` of its own, written before any service
//! runs and with no hook to change it; the API's contract is that every error it produces is
//! its JSON error shape. So the head is parsed here with the parser hyper uses (`httparse`,
//! same configuration) and the checks hyper adds after it, a refusal is answered in JSON, and
//! only a head hyper will accept is handed on to it, bytes unchanged (see [`Prefixed`]).

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, ReadBuf};

/// hyper's own ceiling on a request target (`http::Uri` holds at most `u16::MAX - 1` bytes).
pub const MAX_REQUEST_TARGET_BYTES: usize = u16::MAX as usize - 1;

/// The most the gateway reads of a request head: room for the longest target hyper accepts and
/// the headers of any real client, well under hyper's own buffer (~400 KiB), so hyper never
/// meets a head too large for it.
pub const MAX_HEAD_BYTES: usize = 128 * 1024;

/// hyper's default limit on the number of headers.
pub const MAX_HEADERS: usize = 100;

/// How long a client may take to send its head, as hyper's own header read timeout.
pub const HEAD_READ_TIMEOUT: Duration = Duration::from_secs(30);

/// Why a head is refused; each is answered with its status and the JSON error shape.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HeadRefusal {
    /// The request target is longer than [`MAX_REQUEST_TARGET_BYTES`].
    UriTooLong,
    /// The head is longer than [`MAX_HEAD_BYTES`] or has more than [`MAX_HEADERS`] headers.
    HeadTooLarge,
    /// Not an HTTP/1.x head hyper would accept; `field` names the header at fault when one
    /// can be told (a control character in its value, a bad `Content-Length`).
    Malformed {
        field: Option<String>,
        reason: &'static str,
    },
}

/// What reading a head came to.
#[derive(Debug)]
pub enum Head {
    /// A head hyper will accept, and every byte read so far (the head and perhaps the start of
    /// the body), to be handed to hyper first.
    Accepted(Vec<u8>),
    /// A head to refuse.
    Refused(HeadRefusal),
    /// The client closed, sent nothing more, or took too long: nothing to answer.
    Gone,
}

/// Reads from `stream` until a whole head is in, then checks it.
pub async fn read_head<R: AsyncRead + Unpin>(stream: &mut R) -> Head {
    let mut buffer = Vec::with_capacity(4096);
    match tokio::time::timeout(HEAD_READ_TIMEOUT, read_into(stream, &mut buffer)).await {
        Ok(head) => head,
        Err(_) => Head::Gone,
    }
}

async fn read_into<R: AsyncRead + Unpin>(stream: &mut R, buffer: &mut Vec<u8>) -> Head {
    let mut chunk = [0u8; 8192];
    loop {
        let read = match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return Head::Gone,
            Ok(read) => read,
        };
        buffer.extend_from_slice(&chunk[..read]);
        match check(buffer) {
            Some(Ok(())) => return Head::Accepted(std::mem::take(buffer)),
            Some(Err(refusal)) => return Head::Refused(refusal),
            None if buffer.len() >= MAX_HEAD_BYTES => {
                return Head::Refused(HeadRefusal::HeadTooLarge)
            }
            None => {}
        }
    }
}

/// `None` while the head is incomplete (and not already refusable), else the verdict.
pub fn check(bytes: &[u8]) -> Option<Result<(), HeadRefusal>> {
    // The request line alone can already be too long, before the head is complete: answer
    // without waiting for (or buffering) the rest.
    if target_len(bytes) > MAX_REQUEST_TARGET_BYTES {
        return Some(Err(HeadRefusal::UriTooLong));
    }
    let mut headers = [httparse::EMPTY_HEADER; MAX_HEADERS];
    let mut request = httparse::Request::new(&mut headers);
    let malformed = |reason| HeadRefusal::Malformed {
        field: None,
        reason,
    };
    match request.parse(bytes) {
        Ok(httparse::Status::Partial) => None,
        Ok(httparse::Status::Complete(_)) => Some(after_parse(&request)),
        Err(httparse::Error::TooManyHeaders) => Some(Err(HeadRefusal::HeadTooLarge)),
        Err(httparse::Error::HeaderValue) => Some(Err(HeadRefusal::Malformed {
            field: faulty_header(bytes),
            reason: "a header value holds a control character",
        })),
        Err(httparse::Error::HeaderName) => Some(Err(malformed("a header name is not a token"))),
        Err(httparse::Error::Version) => Some(Err(malformed("not an HTTP/1.0 or 1.1 request"))),
        Err(_) => Some(Err(malformed(
            "the request line is not method, target and version",
        ))),
    }
}

/// What hyper checks once httparse has the head (`proto/h1/role.rs`): the target's length and
/// form, `Content-Length` (a number, repeated only with the same value) and
/// `Transfer-Encoding` (HTTP/1.1 only).
fn after_parse(request: &httparse::Request<'_, '_>) -> Result<(), HeadRefusal> {
    let target = request.path.unwrap_or("");
    if target.len() > MAX_REQUEST_TARGET_BYTES {
        return Err(HeadRefusal::UriTooLong);
    }
    if hyper::Uri::try_from(target).is_err() {
        return Err(HeadRefusal::Malformed {
            field: None,
            reason: "the request target is not a URI",
        });
    }
    let http_11 = request.version == Some(1);
    let mut length: Option<u64> = None;
    for header in request.headers.iter() {
        if header.name.eq_ignore_ascii_case("transfer-encoding") && !http_11 {
            return Err(HeadRefusal::Malformed {
                field: Some("Transfer-Encoding".to_owned()),
                reason: "HTTP/1.0 has no Transfer-Encoding",
            });
        }
        if header.name.eq_ignore_ascii_case("content-length") {
            let bad = || HeadRefusal::Malformed {
                field: Some("Content-Length".to_owned()),
                reason: "Content-Length must be one whole number of bytes",
            };
            let value = std::str::from_utf8(header.value).map_err(|_| bad())?;
            // hyper reads a comma-separated list of equal values as that value.
            for part in value.split(',') {
                let part = part.trim();
                if part.is_empty() || !part.bytes().all(|b| b.is_ascii_digit()) {
                    return Err(bad());
                }
                let parsed = part.parse::<u64>().map_err(|_| bad())?;
                if length.is_some_and(|seen| seen != parsed) {
                    return Err(bad());
                }
                length = Some(parsed);
            }
        }
    }
    Ok(())
}

/// The length of the request target so far: the bytes after the first space of the request
/// line, up to the next space or the line's end.
fn target_len(bytes: &[u8]) -> usize {
    let line = bytes.split(|b| *b == b'\n').next().unwrap_or(bytes);
    let Some(start) = line.iter().position(|b| *b == b' ') else {
        return 0;
    };
    line[start + 1..]
        .iter()
        .take_while(|b| **b != b' ' && **b != b'\r')
        .count()
}

/// The name of the first header whose value holds a byte httparse refuses (a control character
/// other than a tab), when that name is itself well-formed: what the client must fix.
fn faulty_header(bytes: &[u8]) -> Option<String> {
    let head_end = bytes
        .windows(4)
        .position(|w| w == b"\r\n\r\n")
        .unwrap_or(bytes.len());
    bytes[..head_end]
        .split(|b| *b == b'\n')
        .skip(1)
        .find_map(|line| {
            let line = line.strip_suffix(b"\r").unwrap_or(line);
            let colon = line.iter().position(|b| *b == b':')?;
            let (name, value) = (&line[..colon], &line[colon + 1..]);
            let refused = value
                .iter()
                .any(|b| (*b < 0x20 && *b != b'\t') || *b == 0x7f);
            let name = std::str::from_utf8(name).ok()?;
            (refused && hyper::header::HeaderName::from_bytes(name.as_bytes()).is_ok())
                .then(|| name.to_owned())
        })
}

/// The connection as hyper reads it: the bytes the gateway already read first, then the
/// stream. Writes go straight to the stream.
pub struct Prefixed<S> {
    prefix: Vec<u8>,
    read: usize,
    inner: S,
}

impl<S> Prefixed<S> {
    pub fn new(prefix: Vec<u8>, inner: S) -> Prefixed<S> {
        Prefixed {
            prefix,
            read: 0,
            inner,
        }
    }
}

impl<S: AsyncRead + Unpin> AsyncRead for Prefixed<S> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.read < this.prefix.len() {
            let rest = &this.prefix[this.read..];
            let take = rest.len().min(buf.remaining());
            buf.put_slice(&rest[..take]);
            this.read += take;
            return Poll::Ready(Ok(()));
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<S: AsyncWrite + Unpin> AsyncWrite for Prefixed<S> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write(cx, buf)
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_flush(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        Pin::new(&mut self.get_mut().inner).poll_shutdown(cx)
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        Pin::new(&mut self.get_mut().inner).poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.inner.is_write_vectored()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn verdict(head: &[u8]) -> Option<Result<(), HeadRefusal>> {
        check(head)
    }

    #[test]
    fn a_well_formed_head_is_accepted_and_an_incomplete_one_waits() {
        let head = b"POST /tickets?limit=5 HTTP/1.1\r\nhost: x\r\ncontent-length: 2\r\n\r\n{}";
        assert_eq!(verdict(head), Some(Ok(())));
        assert_eq!(verdict(b"GET /tickets HTTP/1.1\r\nhost: x\r\n"), None);
        assert_eq!(verdict(b"GET /tick"), None);
    }

    #[test]
    fn a_target_over_hypers_limit_is_refused_as_soon_as_it_is_known() {
        let mut head = b"GET /".to_vec();
        head.extend(std::iter::repeat_n(b'a', MAX_REQUEST_TARGET_BYTES));
        // The line is not even finished.
        assert_eq!(verdict(&head), Some(Err(HeadRefusal::UriTooLong)));
        let mut fits = b"GET /".to_vec();
        fits.extend(std::iter::repeat_n(b'a', MAX_REQUEST_TARGET_BYTES - 1));
        fits.extend_from_slice(b" HTTP/1.1\r\n\r\n");
        assert_eq!(verdict(&fits), Some(Ok(())));
    }

    #[test]
    fn a_control_character_in_a_header_value_names_the_header() {
        let head = b"POST /tickets HTTP/1.1\r\nhost: x\r\nidempotency-key: ab\0cd\r\n\r\n";
        assert_eq!(
            verdict(head),
            Some(Err(HeadRefusal::Malformed {
                field: Some("idempotency-key".to_owned()),
                reason: "a header value holds a control character",
            }))
        );
    }

    #[test]
    fn what_hyper_refuses_after_parsing_is_refused_here() {
        for (head, field) in [
            (
                &b"POST / HTTP/1.1\r\ncontent-length: 1\r\ncontent-length: 2\r\n\r\n"[..],
                Some("Content-Length"),
            ),
            (
                &b"POST / HTTP/1.1\r\ncontent-length: -1\r\n\r\n"[..],
                Some("Content-Length"),
            ),
            (
                &b"POST / HTTP/1.0\r\ntransfer-encoding: chunked\r\n\r\n"[..],
                Some("Transfer-Encoding"),
            ),
            (&b"GET /a b HTTP/1.1\r\n\r\n"[..], None),
            (&b"GET / HTTP/2.0\r\n\r\n"[..], None),
        ] {
            match verdict(head) {
                Some(Err(HeadRefusal::Malformed { field: named, .. })) => {
                    assert_eq!(named.as_deref(), field, "{head:?}")
                }
                other => panic!("{head:?}: {other:?}"),
            }
        }
        let mut many = b"GET / HTTP/1.1\r\n".to_vec();
        for i in 0..=MAX_HEADERS {
            many.extend(format!("x-{i}: 1\r\n").bytes());
        }
        many.extend_from_slice(b"\r\n");
        assert_eq!(verdict(&many), Some(Err(HeadRefusal::HeadTooLarge)));
    }

    #[tokio::test]
    async fn hyper_reads_the_prefix_then_the_stream() {
        let (mut client, server) = tokio::io::duplex(64);
        let mut prefixed = Prefixed::new(b"abc".to_vec(), server);
        tokio::io::AsyncWriteExt::write_all(&mut client, b"def")
            .await
            .unwrap();
        drop(client);
        let mut all = Vec::new();
        prefixed.read_to_end(&mut all).await.unwrap();
        assert_eq!(all, b"abcdef");
    }
}
