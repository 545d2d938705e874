//! Failures the client core reports; the JS layer maps each to an exported
//! `Error` subclass (`NotConnectedError`, `ConnectionLostError`, ...).

use std::fmt;

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
}

impl fmt::Display for ClientError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ClientError::NotConnected(why) => write!(f, "not connected: {why}"),
            ClientError::ConnectionLost(why) => write!(f, "connection lost: {why}"),
            ClientError::Protocol(why) => write!(f, "protocol error: {why}"),
        }
    }
}

impl std::error::Error for ClientError {}
