//! Lingering close: a connection the server is done with is not closed while the client may
//! still be sending on it.
//!
//! When a process closes a TCP socket whose receive queue holds unread bytes, or that
//! receives bytes after the close, the kernel answers with a reset (RFC 9293 §3.6.1), and the
//! client's kernel may drop what it had received but not yet read. Under load that is exactly
//! the end of an HTTP/2 connection after SIGTERM: the server's last responses are on their
//! way while the client is still sending frames (new requests it sent before the GOAWAY
//! reached it, window updates, a RST_STREAM); the reset then destroys responses to reviews
//! the server had judged (seen in `tests/faults.rs`: 20 reviews, logged as judged by the
//! server, reached the client as `ConnectionReset`). HTTP servers close in two steps for
//! this reason (RFC 9112 §9.6; nginx's `lingering_close`): send FIN, then read and discard
//! until the client closes too, for a bounded time.
//!
//! [`Lingering`] wraps each accepted TCP stream; when the HTTP connection over it ends and
//! drops it, a task shuts down the write side, drains the input for at most [`LINGER`] (and
//! [`LINGER_BYTES`]), then closes; at most [`MAX_DRAINING`] at once, past which a connection
//! closes at once. [`Closes`] counts those tasks so that the server waits for
//! them before the process exits (an exiting process closes every socket at once).

use std::io;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use tokio::io::{AsyncRead, AsyncReadExt as _, AsyncWrite, AsyncWriteExt as _, ReadBuf};
use tokio::net::TcpStream;

/// How long a closing connection is drained at most. A client that received our FIN closes
/// within a round trip; one that does not gets no more than this.
pub const LINGER: Duration = Duration::from_secs(2);
/// How many bytes a closing connection may still send us before it is cut.
pub const LINGER_BYTES: usize = 256 * 1024;
/// How many connections may drain at once; past that a connection closes at once (a flood
/// of clients that never close must not hold sockets without bound).
pub const MAX_DRAINING: usize = 1024;

/// The connections being closed.
#[derive(Debug)]
pub struct Closes {
    draining: AtomicUsize,
    done: tokio::sync::Notify,
    limit: usize,
}

impl Default for Closes {
    fn default() -> Self {
        Closes::with_limit(MAX_DRAINING)
    }
}

impl Closes {
    /// At most `limit` connections draining at once.
    pub fn with_limit(limit: usize) -> Self {
        Closes {
            draining: AtomicUsize::new(0),
            done: tokio::sync::Notify::new(),
            limit,
        }
    }

    /// How many connections are draining now.
    pub fn open(&self) -> usize {
        self.draining.load(Ordering::SeqCst)
    }

    /// Until no connection is draining, or `limit` has passed.
    pub async fn wait(&self, limit: Duration) {
        let _ = tokio::time::timeout(limit, async {
            loop {
                // Registered before the count is read, so a close in between is not missed.
                let notified = self.done.notified();
                tokio::pin!(notified);
                notified.as_mut().enable();
                if self.open() == 0 {
                    return;
                }
                notified.await;
            }
        })
        .await;
    }
}

/// Counts one draining connection while it lives.
struct Draining(Arc<Closes>);

impl Draining {
    /// `None` when `limit` connections are draining already.
    fn new(closes: Arc<Closes>) -> Option<Self> {
        closes
            .draining
            .fetch_update(Ordering::SeqCst, Ordering::SeqCst, |n| {
                (n < closes.limit).then_some(n + 1)
            })
            .ok()?;
        Some(Draining(closes))
    }
}

impl Drop for Draining {
    fn drop(&mut self) {
        self.0.draining.fetch_sub(1, Ordering::SeqCst);
        self.0.done.notify_waiters();
    }
}

/// An accepted TCP stream that lingers when dropped (see the module's documentation).
#[derive(Debug)]
pub struct Lingering {
    /// `Some` until dropped.
    stream: Option<TcpStream>,
    closes: Arc<Closes>,
}

impl Lingering {
    pub fn new(stream: TcpStream, closes: Arc<Closes>) -> Self {
        Lingering {
            stream: Some(stream),
            closes,
        }
    }

    fn stream(&mut self) -> io::Result<Pin<&mut TcpStream>> {
        self.stream
            .as_mut()
            .map(Pin::new)
            .ok_or_else(|| io::Error::from(io::ErrorKind::NotConnected))
    }
}

impl Drop for Lingering {
    fn drop(&mut self) {
        let Some(stream) = self.stream.take() else {
            return;
        };
        // Outside a runtime (cannot happen in the server) the socket simply closes.
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let Some(draining) = Draining::new(self.closes.clone()) else {
            return; // too many draining: this one closes at once
        };
        runtime.spawn(async move {
            drain(stream).await;
            drop(draining);
        });
    }
}

/// FIN, then read and discard until the peer closes, [`LINGER`] passes or [`LINGER_BYTES`]
/// arrive; the socket closes when `stream` is dropped.
async fn drain(mut stream: TcpStream) {
    // The TLS layer has usually sent close_notify and FIN already; a second shutdown of the
    // write side is harmless, and a connection cut short (a timeout) gets its FIN here.
    let _ = stream.shutdown().await;
    let mut buf = [0u8; 8192];
    let mut discarded = 0;
    let _ = tokio::time::timeout(LINGER, async {
        while discarded < LINGER_BYTES {
            match stream.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => discarded += n,
            }
        }
    })
    .await;
}

impl AsyncRead for Lingering {
    fn poll_read(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        self.stream()?.poll_read(cx, buf)
    }
}

impl AsyncWrite for Lingering {
    fn poll_write(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        self.stream()?.poll_write(cx, buf)
    }

    fn poll_write_vectored(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        self.stream()?.poll_write_vectored(cx, bufs)
    }

    fn is_write_vectored(&self) -> bool {
        self.stream
            .as_ref()
            .is_some_and(AsyncWrite::is_write_vectored)
    }

    fn poll_flush(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_flush(cx)
    }

    fn poll_shutdown(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        self.stream()?.poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::net::TcpListener;

    /// Both ends of a loopback connection: (client, server).
    async fn connected() -> (TcpStream, TcpStream) {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let client = TcpStream::connect(listener.local_addr().unwrap())
            .await
            .unwrap();
        let (server, _) = listener.accept().await.unwrap();
        (client, server)
    }

    /// A connection dropped while the peer still sends is closed with FIN, not a reset: the
    /// peer reads everything written before the drop, then EOF.
    #[tokio::test]
    async fn a_dropped_connection_with_unread_input_ends_in_eof_not_reset() {
        let closes = Arc::new(Closes::default());
        let (mut client, server) = connected().await;
        let mut server = Lingering::new(server, closes.clone());
        // The client sends what the server never reads; the server answers and hangs up.
        client.write_all(&[1u8; 10_000]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.write_all(b"answer").await.unwrap();
        drop(server);
        assert_eq!(closes.open(), 1, "draining");
        // The client keeps sending for a while after the server's close…
        client.write_all(&[2u8; 10_000]).await.unwrap();
        // …and still reads the whole answer, then EOF.
        let mut got = Vec::new();
        client.read_to_end(&mut got).await.unwrap();
        assert_eq!(got, b"answer");
        drop(client);
        closes.wait(Duration::from_secs(10)).await;
        assert_eq!(closes.open(), 0);
    }

    /// The same without lingering is a reset: the case the wrapper exists for.
    #[tokio::test]
    async fn without_it_unread_input_turns_the_close_into_a_reset() {
        let (mut client, mut server) = connected().await;
        client.write_all(&[1u8; 10_000]).await.unwrap();
        tokio::time::sleep(Duration::from_millis(50)).await;
        server.write_all(b"answer").await.unwrap();
        drop(server);
        tokio::time::sleep(Duration::from_millis(50)).await;
        let mut got = Vec::new();
        let read = client.read_to_end(&mut got).await;
        assert_eq!(
            read.map_err(|e| e.kind()),
            Err(io::ErrorKind::ConnectionReset),
            "got {got:?}"
        );
    }

    /// A peer that never closes is cut after LINGER (never before; the upper bound is only
    /// the test's patience).
    #[tokio::test]
    async fn a_peer_that_never_closes_is_cut_after_the_linger_time() {
        let closes = Arc::new(Closes::default());
        let (_client, server) = connected().await;
        let dropped = std::time::Instant::now();
        drop(Lingering::new(server, closes.clone()));
        assert_eq!(closes.open(), 1);
        closes.wait(Duration::from_secs(60)).await;
        assert_eq!(closes.open(), 0);
        assert!(dropped.elapsed() >= LINGER, "{:?}", dropped.elapsed());
    }

    /// Past the limit a connection closes at once instead of draining.
    #[tokio::test]
    async fn no_more_than_the_limit_drain_at_once() {
        let closes = Arc::new(Closes::with_limit(1));
        let mut clients = Vec::new();
        for _ in 0..3 {
            let (client, server) = connected().await;
            clients.push(client);
            drop(Lingering::new(server, closes.clone()));
        }
        assert_eq!(closes.open(), 1);
    }
}
