//! Failures the client core reports; the JS layer maps each to an exported
//! `Error` subclass (`NotConnectedError`, `ConnectionLostError`, ...).

use std::fmt;

/// A number in a message (a timeout in milliseconds), as `{}` prints an
/// f64. In the wasm build, through JS's `String()` (the one call out of the
/// core): std's float printer alone would weigh 17 KB of it.
pub fn number_text(number: f64) -> String {
    #[cfg(target_arch = "wasm32")]
    return crate::js::convert::number_text(number);
    #[cfg(not(target_arch = "wasm32"))]
    number.to_string()
}

#[derive(Debug, Clone, PartialEq)]
pub enum ClientError {
    /// The connection is closed (or never opened): nothing was sent.
    NotConnected(String),
    /// The socket closed while the request was in flight: it may or may not
    /// have run on the server, but its reply will never arrive.
    ConnectionLost(String),
    /// The server sent bytes that are not RESP, or a reply nobody asked for;
    /// the stream cannot be trusted any more, so the connection is dropped.
    Protocol(String),
    /// The server's error reply to `command` (the handshake's, or a queued
    /// command's error replayed at EXEC).
    Reply { command: String, message: String },
    /// No reply within `commandTimeout` (or `connectTimeout`).
    Timeout(String),
    /// A pool with no connection free for the command.
    NoAvailableConnections(String),
    /// A transaction that did not run (watch conflict, EXECABORT, DISCARD).
    Transaction(String),
    /// A cluster command whose keys are in more than one slot: nothing was
    /// sent.
    CrossSlot(String),
    /// A cluster that would not serve the command (too many redirections).
    Cluster(String),
    /// The command is not allowed here (a refused command, a connection in a
    /// transaction or in pub/sub): nothing was sent.
    Refused(String),
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NotConnected(why) => write!(f, "not connected: {why}"),
            ClientError::ConnectionLost(why) => write!(f, "connection lost: {why}"),
            ClientError::Protocol(why) => write!(f, "protocol error: {why}"),
            ClientError::Reply { message, .. } => f.write_str(message),
            ClientError::Timeout(why)
            | ClientError::NoAvailableConnections(why)
            | ClientError::Transaction(why)
            | ClientError::CrossSlot(why)
            | ClientError::Cluster(why)
            | ClientError::Refused(why) => f.write_str(why),
        }
    }
}

impl std::error::Error for ClientError {}

/// The first word of an error reply: `WRONGTYPE`, `NOSCRIPT`, `MOVED`...
pub fn error_code(message: &str) -> &str {
    message.split(' ').next().unwrap_or_default()
}
