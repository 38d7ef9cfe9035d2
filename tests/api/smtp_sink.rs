//! A loopback SMTP sink for tests: plain SMTP (no TLS, no AUTH) on
//! `127.0.0.1:<port>`, enough of it for lettre's `SmtpTransport` with
//! `builder_dangerous(..)`. Accepted messages are kept in memory; the
//! [`Mode`] makes it refuse mail (421 / 451 / 550), drop the connection in
//! the middle of DATA, hang, or behave like a dead server.

use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use tokio::io::{AsyncBufReadExt, AsyncRead, AsyncWrite, AsyncWriteExt, BufReader};
use tokio::net::TcpListener;
use tokio::task::{AbortHandle, JoinSet};
use tokio::time::Instant;

/// One message the sink accepted.
#[derive(Debug, Clone)]
pub struct Received {
    pub mail_from: String,
    pub rcpt_to: Vec<String>,
    /// the raw message after DATA, dot-unstuffed, CRLF line ends kept
    pub data: String,
}

/// How the sink answers. Read per command, so it can change between
/// deliveries (and between commands of one connection).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Accept,
    /// answer 451 to MAIL FROM (temporary failure)
    TempFail,
    /// answer 550 to RCPT TO (permanent failure)
    PermFail,
    /// accept the TCP connection and close it at once (server down)
    Down,
    /// greet with 421 (service not available) and close
    Refuse,
    /// take the first lines of DATA, then drop the connection unanswered
    DropInData,
    /// accept the TCP connection and never say a word
    Hang,
}

impl Mode {
    fn to_u8(self) -> u8 {
        match self {
            Mode::Accept => 0,
            Mode::TempFail => 1,
            Mode::PermFail => 2,
            Mode::Down => 3,
            Mode::Refuse => 4,
            Mode::DropInData => 5,
            Mode::Hang => 6,
        }
    }

    fn from_u8(value: u8) -> Mode {
        match value {
            1 => Mode::TempFail,
            2 => Mode::PermFail,
            3 => Mode::Down,
            4 => Mode::Refuse,
            5 => Mode::DropInData,
            6 => Mode::Hang,
            _ => Mode::Accept,
        }
    }
}

#[derive(Default)]
struct Shared {
    mode: AtomicU8,
    connections: AtomicUsize,
    received: Mutex<Vec<Received>>,
}

impl Shared {
    fn mode(&self) -> Mode {
        Mode::from_u8(self.mode.load(Ordering::SeqCst))
    }

    fn push(&self, message: Received) {
        self.received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .push(message);
    }
}

/// The sink. Dropping it stops the server and every open connection.
pub struct SmtpSink {
    pub port: u16,
    shared: Arc<Shared>,
    server: AbortHandle,
}

impl SmtpSink {
    /// Binds `127.0.0.1:0` and serves any number of connections in a
    /// spawned task.
    pub async fn start() -> SmtpSink {
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .expect("smtp sink: bind 127.0.0.1:0");
        let port = listener
            .local_addr()
            .expect("smtp sink: local address")
            .port();
        let shared = Arc::new(Shared::default());
        let server = tokio::spawn(serve(listener, Arc::clone(&shared))).abort_handle();
        SmtpSink {
            port,
            shared,
            server,
        }
    }

    pub fn set_mode(&self, mode: Mode) {
        self.shared.mode.store(mode.to_u8(), Ordering::SeqCst);
    }

    /// All messages accepted so far, oldest first.
    pub fn received(&self) -> Vec<Received> {
        self.shared
            .received
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .clone()
    }

    /// Polls until at least `n` messages were accepted or `timeout` has
    /// passed; returns what it has either way.
    pub async fn wait_for(&self, n: usize, timeout: Duration) -> Vec<Received> {
        let deadline = Instant::now() + timeout;
        loop {
            let received = self.received();
            if received.len() >= n || Instant::now() >= deadline {
                return received;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
    }

    /// How many TCP connections were accepted, in any mode.
    pub fn connections(&self) -> usize {
        self.shared.connections.load(Ordering::SeqCst)
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        // Dropping the accept task drops its JoinSet, which aborts the
        // connection tasks too.
        self.server.abort();
    }
}

async fn serve(listener: TcpListener, shared: Arc<Shared>) {
    let mut sessions = JoinSet::new();
    loop {
        tokio::select! {
            accepted = listener.accept() => {
                let Ok((stream, _)) = accepted else { continue };
                // Replies are small writes: without this, Nagle's algorithm
                // and the client's delayed ACK cost 40 ms a message.
                let _ = stream.set_nodelay(true);
                shared.connections.fetch_add(1, Ordering::SeqCst);
                match shared.mode() {
                    Mode::Down => {
                        drop(stream);
                        continue;
                    }
                    Mode::Hang => {
                        // Held open, silent, until the sink is dropped.
                        sessions.spawn(async move {
                            let _held = stream;
                            std::future::pending::<()>().await;
                        });
                        continue;
                    }
                    Mode::Refuse => {
                        let (_, mut write) = stream.into_split();
                        let _ = reply(&mut write, "421 sink Service not available\r\n").await;
                        continue;
                    }
                    _ => {}
                }
                let (read, write) = stream.into_split();
                sessions.spawn(session(read, write, Arc::clone(&shared)));
            }
            Some(_) = sessions.join_next(), if !sessions.is_empty() => {}
        }
    }
}

/// The current mail transaction (between MAIL FROM and the end of DATA).
#[derive(Default)]
struct Transaction {
    mail_from: Option<String>,
    rcpt_to: Vec<String>,
}

/// Serves one connection until QUIT, EOF or an I/O error. Commands are read
/// one line at a time from a buffered reader, so pipelined commands are
/// simply answered in order.
async fn session<R, W>(read: R, mut write: W, shared: Arc<Shared>)
where
    R: AsyncRead + Unpin,
    W: AsyncWrite + Unpin,
{
    let mut reader = BufReader::new(read);
    if reply(&mut write, "220 sink ESMTP\r\n").await.is_err() {
        return;
    }
    let mut tx = Transaction::default();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return,
            Ok(_) => {}
        }
        let mode = shared.mode();
        if mode == Mode::Down {
            // The server "went down" mid-session: hang up without a reply.
            return;
        }
        let command = String::from_utf8_lossy(trim_line_end(&line)).into_owned();
        let (verb, arg) = match command.split_once(' ') {
            Some((verb, arg)) => (verb.to_ascii_uppercase(), arg.trim()),
            None => (command.trim().to_ascii_uppercase(), ""),
        };
        let answer = match verb.as_str() {
            "EHLO" => {
                tx = Transaction::default();
                "250-sink\r\n250-PIPELINING\r\n250-8BITMIME\r\n250-SMTPUTF8\r\n250 OK\r\n"
            }
            "HELO" => {
                tx = Transaction::default();
                "250 sink\r\n"
            }
            "MAIL" => match path_after(arg, "FROM:") {
                None => "501 Syntax: MAIL FROM:<address>\r\n",
                Some(_) if tx.mail_from.is_some() => "503 Nested MAIL command\r\n",
                Some(_) if mode == Mode::TempFail => "451 Try again later\r\n",
                Some(from) => {
                    tx.mail_from = Some(from);
                    "250 OK\r\n"
                }
            },
            "RCPT" => match path_after(arg, "TO:") {
                _ if tx.mail_from.is_none() => "503 MAIL first\r\n",
                None => "501 Syntax: RCPT TO:<address>\r\n",
                Some(to) if to.is_empty() => "501 Empty recipient\r\n",
                Some(_) if mode == Mode::PermFail => "550 No such user here\r\n",
                Some(to) => {
                    tx.rcpt_to.push(to);
                    "250 OK\r\n"
                }
            },
            "DATA" => {
                let Some(mail_from) = tx.mail_from.take() else {
                    if reply(&mut write, "503 MAIL first\r\n").await.is_err() {
                        return;
                    }
                    continue;
                };
                if tx.rcpt_to.is_empty() {
                    tx.mail_from = Some(mail_from);
                    if reply(&mut write, "554 No valid recipients\r\n")
                        .await
                        .is_err()
                    {
                        return;
                    }
                    continue;
                }
                let rcpt_to = std::mem::take(&mut tx.rcpt_to);
                if reply(&mut write, "354 End data with <CR><LF>.<CR><LF>\r\n")
                    .await
                    .is_err()
                {
                    return;
                }
                if shared.mode() == Mode::DropInData {
                    // Part of the message arrives, then the line goes dead.
                    line.clear();
                    let _ = reader.read_until(b'\n', &mut line).await;
                    return;
                }
                let Some(data) = read_data(&mut reader).await else {
                    return;
                };
                shared.push(Received {
                    mail_from,
                    rcpt_to,
                    data,
                });
                "250 OK queued\r\n"
            }
            "RSET" => {
                tx = Transaction::default();
                "250 OK\r\n"
            }
            "NOOP" => "250 OK\r\n",
            "QUIT" => {
                let _ = reply(&mut write, "221 Bye\r\n").await;
                let _ = write.shutdown().await;
                return;
            }
            _ => "502 Command not implemented\r\n",
        };
        if reply(&mut write, answer).await.is_err() {
            return;
        }
    }
}

async fn reply<W: AsyncWrite + Unpin>(write: &mut W, text: &str) -> std::io::Result<()> {
    write.write_all(text.as_bytes()).await?;
    write.flush().await
}

/// Reads the message after `354` up to a line that is exactly `.`, undoing
/// dot-stuffing. `None` if the client went away first.
async fn read_data<R: AsyncRead + Unpin>(reader: &mut BufReader<R>) -> Option<String> {
    let mut data = Vec::new();
    let mut line = Vec::new();
    loop {
        line.clear();
        match reader.read_until(b'\n', &mut line).await {
            Ok(0) | Err(_) => return None,
            Ok(_) => {}
        }
        if trim_line_end(&line) == b"." {
            return Some(String::from_utf8_lossy(&data).into_owned());
        }
        let unstuffed = line.strip_prefix(b".").unwrap_or(&line);
        data.extend_from_slice(unstuffed);
    }
}

/// The line without its trailing CRLF (or bare LF).
fn trim_line_end(line: &[u8]) -> &[u8] {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    line.strip_suffix(b"\r").unwrap_or(line)
}

/// For `FROM:<a@b> BODY=8BITMIME` (keyword matched case-insensitively)
/// returns `a@b`; `<>` gives an empty string. Parameters after the path are
/// accepted and ignored.
fn path_after(arg: &str, keyword: &str) -> Option<String> {
    let head = arg.get(..keyword.len())?;
    if !head.eq_ignore_ascii_case(keyword) {
        return None;
    }
    let rest = arg[keyword.len()..].trim_start();
    if let Some(inner) = rest.strip_prefix('<') {
        let end = inner.find('>')?;
        Some(inner[..end].to_string())
    } else {
        rest.split_whitespace().next().map(str::to_string)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, ReadHalf};
    use tokio::net::TcpStream;

    type Client = (
        BufReader<ReadHalf<TcpStream>>,
        tokio::io::WriteHalf<TcpStream>,
    );

    async fn connect(sink: &SmtpSink) -> Client {
        let stream = TcpStream::connect(("127.0.0.1", sink.port)).await.unwrap();
        let (read, write) = tokio::io::split(stream);
        (BufReader::new(read), write)
    }

    /// Reads one (possibly multi-line) reply and returns all of its lines.
    async fn read_reply(reader: &mut BufReader<ReadHalf<TcpStream>>) -> String {
        let mut all = String::new();
        loop {
            let mut line = String::new();
            let n = tokio::time::timeout(Duration::from_secs(5), reader.read_line(&mut line))
                .await
                .unwrap()
                .unwrap();
            assert!(n > 0, "connection closed; got so far: {all:?}");
            all.push_str(&line);
            if line.as_bytes().get(3) != Some(&b'-') {
                return all;
            }
        }
    }

    async fn command(client: &mut Client, line: &str) -> String {
        client.1.write_all(line.as_bytes()).await.unwrap();
        read_reply(&mut client.0).await
    }

    #[tokio::test]
    async fn accepts_a_message_and_undoes_dot_stuffing() {
        let sink = SmtpSink::start().await;
        let mut client = connect(&sink).await;
        assert_eq!(read_reply(&mut client.0).await, "220 sink ESMTP\r\n");
        let ehlo = command(&mut client, "ehlo tester\r\n").await;
        assert!(ehlo.starts_with("250-sink\r\n") && ehlo.ends_with("250 OK\r\n"));
        assert!(!ehlo.contains("STARTTLS") && !ehlo.contains("AUTH"));

        // MAIL and RCPT pipelined in one write.
        client
            .1
            .write_all(
                b"MAIL FROM:<from@example.org> BODY=8BITMIME\r\nRCPT TO:<to@example.org>\r\n",
            )
            .await
            .unwrap();
        assert_eq!(read_reply(&mut client.0).await, "250 OK\r\n");
        assert_eq!(read_reply(&mut client.0).await, "250 OK\r\n");
        assert!(command(&mut client, "DATA\r\n").await.starts_with("354 "));
        let body = "Subject: hi\r\n\r\n..leading dot\r\nend\r\n.\r\n";
        assert!(command(&mut client, body).await.starts_with("250 "));
        assert!(command(&mut client, "VRFY x\r\n").await.starts_with("502 "));
        assert_eq!(command(&mut client, "QUIT\r\n").await, "221 Bye\r\n");

        let got = sink.wait_for(1, Duration::from_secs(5)).await;
        assert_eq!(got.len(), 1);
        assert_eq!(got[0].mail_from, "from@example.org");
        assert_eq!(got[0].rcpt_to, vec!["to@example.org".to_string()]);
        assert_eq!(got[0].data, "Subject: hi\r\n\r\n.leading dot\r\nend\r\n");
        assert_eq!(sink.connections(), 1);
    }

    #[tokio::test]
    async fn refuses_per_mode_read_per_command() {
        let sink = SmtpSink::start().await;
        let mut client = connect(&sink).await;
        read_reply(&mut client.0).await;
        command(&mut client, "EHLO tester\r\n").await;

        sink.set_mode(Mode::TempFail);
        let mail = command(&mut client, "MAIL FROM:<a@example.org>\r\n").await;
        assert!(mail.starts_with("451 "), "{mail}");

        sink.set_mode(Mode::PermFail);
        let mail = command(&mut client, "MAIL FROM:<a@example.org>\r\n").await;
        assert!(mail.starts_with("250 "), "{mail}");
        let rcpt = command(&mut client, "RCPT TO:<b@example.org>\r\n").await;
        assert!(rcpt.starts_with("550 "), "{rcpt}");
        assert!(command(&mut client, "DATA\r\n").await.starts_with("554 "));

        sink.set_mode(Mode::Down);
        let mut down = TcpStream::connect(("127.0.0.1", sink.port)).await.unwrap();
        let mut buf = [0u8; 16];
        let n = tokio::time::timeout(Duration::from_secs(5), down.read(&mut buf))
            .await
            .unwrap()
            .unwrap_or(0);
        assert_eq!(n, 0, "a down sink sends nothing");
        assert_eq!(sink.connections(), 2);
        assert!(sink.received().is_empty());
    }
}
