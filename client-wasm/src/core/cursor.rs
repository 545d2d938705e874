//! Walking SCAN, SSCAN, HSCAN and ZSCAN.
//!
//! A [`Cursor`] asks for one page at a time — never a second while one is
//! on its way, so no page is fetched twice — and is done once the server's
//! cursor is back at `0`. Empty pages are walked through like any other.

use resp::Frame;

use super::cmd::Cmd;
use super::command::ReplyKind;
use super::ClientError;

/// What is scanned: it decides the command and the shape of items.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScanKind {
    Keys,
    Set,
    Hash,
    SortedSet,
}

impl ScanKind {
    pub fn command(self) -> &'static str {
        match self {
            ScanKind::Keys => "SCAN",
            ScanKind::Set => "SSCAN",
            ScanKind::Hash => "HSCAN",
            ScanKind::SortedSet => "ZSCAN",
        }
    }

    /// Whether items come as pairs (field, value / member, score).
    pub fn pairs(self) -> bool {
        matches!(self, ScanKind::Hash | ScanKind::SortedSet)
    }
}

#[derive(Debug, Clone, PartialEq)]
pub struct Cursor {
    kind: ScanKind,
    key: Option<Vec<u8>>,
    pattern: Option<Vec<u8>>,
    /// The cursor to ask with; `None` once the scan is complete.
    next: Option<Vec<u8>>,
    pending: bool,
}

impl Cursor {
    pub fn new(kind: ScanKind, key: Option<Vec<u8>>, pattern: Option<Vec<u8>>) -> Cursor {
        Cursor {
            kind,
            key,
            pattern,
            next: Some(b"0".to_vec()),
            pending: false,
        }
    }

    pub fn kind(&self) -> ScanKind {
        self.kind
    }

    pub fn is_done(&self) -> bool {
        self.next.is_none()
    }

    /// The command for the next page, unless the scan is complete or a
    /// page is already on its way.
    pub fn next_page(&mut self) -> Option<Cmd> {
        if self.pending {
            return None;
        }
        let cursor = self.next.as_deref()?;
        let mut cmd = Cmd::new([self.kind.command()], None, ReplyKind::Plain);
        if let Some(key) = &self.key {
            cmd.push(key);
        }
        cmd.push(cursor);
        if let Some(pattern) = &self.pattern {
            cmd.push(b"MATCH");
            cmd.push(pattern);
        }
        self.pending = true;
        Some(cmd)
    }

    /// A page arrived: its items (flat; pairs alternate), and the cursor
    /// moves on. An error reply leaves the cursor where it was.
    pub fn on_page(&mut self, page: Frame) -> Result<Vec<Frame>, ClientError> {
        self.pending = false;
        let malformed =
            || ClientError::Protocol(format!("{}: not a scan page", self.kind.command()));
        let Frame::Array(mut parts) = page else {
            return Err(match page {
                Frame::Error(message) => ClientError::Reply {
                    command: self.kind.command().into(),
                    message: String::from_utf8_lossy(&message).into_owned(),
                },
                _ => malformed(),
            });
        };
        let items = match parts.pop() {
            Some(Frame::Array(items)) => items,
            _ => return Err(malformed()),
        };
        let next = match parts.pop() {
            Some(Frame::Bulk(cursor)) if parts.is_empty() => cursor,
            _ => return Err(malformed()),
        };
        self.next = (next.as_ref() != b"0").then(|| next.to_vec());
        Ok(items)
    }

    /// The page request failed: the same page may be asked for again.
    pub fn on_failed(&mut self) {
        self.pending = false;
    }
}
