//! Splitting the input buffer into tokens.
//!
//! A token is one line, or a bulk header together with its payload: the
//! smallest unit that can be turned into a frame or an aggregate header.
//! The reader takes a token off the front of the buffer only once all of it
//! has arrived, so a caller can stop after any `feed` and resume later.
//!
//! Re-examining an incomplete token must stay cheap, or a peer sending one
//! byte at a time would make decoding quadratic. Integer lines (numbers and
//! length headers) are capped at a sign and 19 digits, so re-parsing them is
//! constant work; text lines may be long, so the reader remembers how far it
//! already searched for their line feed.

use bytes::{Buf, Bytes, BytesMut};

use crate::{parse_double, AggregateKind, DecodeErrorKind, Frame, Limits};

/// Longest integer line content: a sign and the 19 digits of `i64::MIN`.
const MAX_INTEGER_LEN: usize = 20;

/// The next unit of input.
pub(crate) enum Token {
    /// A complete frame that is not an aggregate.
    Frame(Frame),
    /// An aggregate or attribute header with its length (pairs for maps
    /// and attributes); the children follow as further tokens.
    Header(Header, usize),
}

/// What a header opens.
pub(crate) enum Header {
    Aggregate(AggregateKind),
    Attribute,
}

/// The input buffer and the position of its first byte in the stream.
#[derive(Debug)]
pub(crate) struct Reader {
    pub(crate) buf: BytesMut,
    /// Absolute stream offset of `buf[0]`.
    offset: u64,
    /// Bytes at the front of `buf` known to hold no line feed after the type
    /// byte: where the search for the end of an incomplete line resumes.
    scanned: usize,
    limits: Limits,
}

impl Reader {
    pub(crate) fn new(limits: Limits) -> Self {
        Reader {
            buf: BytesMut::new(),
            offset: 0,
            scanned: 0,
            limits,
        }
    }

    /// Absolute stream offset of the next token.
    pub(crate) fn offset(&self) -> u64 {
        self.offset
    }

    /// Takes the next token off the buffer, or returns `Ok(None)` and
    /// consumes nothing if it has not fully arrived.
    #[inline]
    pub(crate) fn next(&mut self) -> Result<Option<Token>, DecodeErrorKind> {
        let Some(&tag) = self.buf.first() else {
            return Ok(None);
        };
        match tag {
            b'+' | b'-' | b'(' | b',' => self.text_line(tag),
            b':' => self.integer(),
            b'$' | b'!' | b'=' => self.blob(tag),
            b'*' | b'~' | b'%' | b'>' | b'|' => self.header(tag),
            b'#' => self.boolean(),
            b'_' => self.null(),
            _ => Err(DecodeErrorKind::InvalidType(tag)),
        }
    }

    /// `+`, `-`, `(` and `,`: text up to CRLF.
    #[inline]
    fn text_line(&mut self, tag: u8) -> Result<Option<Token>, DecodeErrorKind> {
        let Some(end) = find_crlf(&self.buf, &mut self.scanned, self.limits.max_line_len)? else {
            return Ok(None);
        };
        let text = &self.buf[1..end];
        let frame = match tag {
            b',' => {
                let value = parse_double(text).ok_or(DecodeErrorKind::InvalidDouble)?;
                self.skip(end + 2);
                Frame::Double(value)
            }
            b'(' if !is_big_number(text) => return Err(DecodeErrorKind::InvalidInteger),
            b'(' => Frame::BigNumber(self.payload(1, end - 1)),
            b'+' => Frame::Simple(self.payload(1, end - 1)),
            _ => Frame::Error(self.payload(1, end - 1)),
        };
        Ok(Some(Token::Frame(frame)))
    }

    /// `:<integer>`
    #[inline]
    fn integer(&mut self) -> Result<Option<Token>, DecodeErrorKind> {
        let Some((value, len)) = self.integer_line(DecodeErrorKind::InvalidInteger)? else {
            return Ok(None);
        };
        self.skip(len);
        Ok(Some(Token::Frame(Frame::Integer(value))))
    }

    /// `$`, `!` and `=`: a length header, that many bytes and CRLF.
    #[inline]
    fn blob(&mut self, tag: u8) -> Result<Option<Token>, DecodeErrorKind> {
        let Some((len, header)) = self.integer_line(DecodeErrorKind::InvalidLength)? else {
            return Ok(None);
        };
        if tag == b'$' && len == -1 {
            self.skip(header);
            return Ok(Some(Token::Frame(Frame::Null)));
        }
        let len = u64::try_from(len).map_err(|_| DecodeErrorKind::InvalidLength)?;
        let limit = self.limits.max_bulk_len;
        let len = usize::try_from(len)
            .ok()
            .filter(|&n| n <= limit)
            .ok_or(DecodeErrorKind::BulkTooLong { len, limit })?;
        // Saturation only matters for a limit near `usize::MAX`, where such a
        // payload could never be buffered anyway.
        let end = header.saturating_add(len).saturating_add(2);
        if self.buf.len() < end {
            return Ok(None);
        }
        if self.buf[end - 2..end] != *b"\r\n" {
            return Err(DecodeErrorKind::MissingCrlf);
        }
        let frame = match tag {
            b'$' => Frame::Bulk(self.payload(header, len)),
            b'!' => Frame::BulkError(self.payload(header, len)),
            _ => {
                let format = match self.buf[header..end - 2] {
                    [a, b, c, b':', ..] => [a, b, c],
                    _ => return Err(DecodeErrorKind::InvalidVerbatim),
                };
                let mut text = self.payload(header, len);
                text.advance(4);
                Frame::Verbatim { format, text }
            }
        };
        Ok(Some(Token::Frame(frame)))
    }

    /// `*`, `~`, `%`, `>` and `|`: a length header that opens an aggregate.
    #[inline]
    fn header(&mut self, tag: u8) -> Result<Option<Token>, DecodeErrorKind> {
        let Some((len, header)) = self.integer_line(DecodeErrorKind::InvalidLength)? else {
            return Ok(None);
        };
        let token = if tag == b'*' && len == -1 {
            Token::Frame(Frame::Null)
        } else {
            let len = usize::try_from(len).map_err(|_| DecodeErrorKind::InvalidLength)?;
            let header = match tag {
                b'*' => Header::Aggregate(AggregateKind::Array),
                b'~' => Header::Aggregate(AggregateKind::Set),
                b'%' => Header::Aggregate(AggregateKind::Map),
                b'>' => Header::Aggregate(AggregateKind::Push),
                _ => Header::Attribute,
            };
            Token::Header(header, len)
        };
        self.skip(header);
        Ok(Some(token))
    }

    /// `#t` or `#f`
    #[inline]
    fn boolean(&mut self) -> Result<Option<Token>, DecodeErrorKind> {
        let Some(&[_, value, cr, lf]) = self.buf.get(..4) else {
            return Ok(None);
        };
        let value = match value {
            b't' => true,
            b'f' => false,
            _ => return Err(DecodeErrorKind::InvalidBoolean),
        };
        if [cr, lf] != *b"\r\n" {
            return Err(DecodeErrorKind::MissingCrlf);
        }
        self.skip(4);
        Ok(Some(Token::Frame(Frame::Boolean(value))))
    }

    /// `_`
    #[inline]
    fn null(&mut self) -> Result<Option<Token>, DecodeErrorKind> {
        let Some(line) = self.buf.get(..3) else {
            return Ok(None);
        };
        if line[1..] != *b"\r\n" {
            return Err(DecodeErrorKind::MissingCrlf);
        }
        self.skip(3);
        Ok(Some(Token::Frame(Frame::Null)))
    }

    #[inline]
    fn integer_line(
        &self,
        invalid: DecodeErrorKind,
    ) -> Result<Option<(i64, usize)>, DecodeErrorKind> {
        parse_integer_line(&self.buf, self.limits.max_line_len, invalid)
    }

    /// A `$` bulk string of at least `min` bytes whose payload has not all
    /// arrived: consumes its header, and whatever of its payload and CRLF
    /// is buffered, and returns its length and those bytes. The rest of the
    /// payload and the CRLF are the caller's to take from the stream.
    pub(crate) fn large_bulk(&mut self, min: usize) -> Option<(usize, BytesMut)> {
        if self.buf.first() != Some(&b'$') {
            return None;
        }
        let (len, header) = self.integer_line(DecodeErrorKind::InvalidLength).ok()??;
        let len = usize::try_from(len)
            .ok()
            .filter(|&n| n >= min && n <= self.limits.max_bulk_len)?;
        if self.buf.len() >= header + len + 2 {
            return None;
        }
        self.skip(header);
        let buffered = self.buf.split_to(self.buf.len());
        self.offset += len as u64 + 2;
        Some((len, buffered))
    }

    /// Consumes `len` bytes.
    #[inline]
    fn skip(&mut self, len: usize) {
        self.buf.advance(len);
        self.offset += len as u64;
        self.scanned = 0;
    }

    /// Consumes a token of `header` bytes, a `len`-byte payload and CRLF,
    /// handing out the payload without copying it.
    #[inline]
    fn payload(&mut self, header: usize, len: usize) -> Bytes {
        self.skip(header);
        let payload = self.buf.split_to(len).freeze();
        self.offset += len as u64;
        self.skip(2);
        payload
    }
}

/// Parses `<tag>[-]<digits>\r\n` at the start of `buf` into the value and
/// the length of the whole line. `invalid` is the error for a malformed or
/// out-of-range number, so that integers and length headers share the parser.
#[inline]
fn parse_integer_line(
    buf: &[u8],
    max_line_len: usize,
    invalid: DecodeErrorKind,
) -> Result<Option<(i64, usize)>, DecodeErrorKind> {
    let max_len = max_line_len.min(MAX_INTEGER_LEN);
    let negative = buf.get(1) == Some(&b'-');
    let digits = if negative { 2 } else { 1 };
    let mut magnitude: u64 = 0;
    let mut cr = digits;
    loop {
        let Some(&byte) = buf.get(cr) else {
            return Ok(None);
        };
        match byte {
            b'0'..=b'9' if cr > max_len => {
                return Err(if max_len == max_line_len {
                    DecodeErrorKind::LineTooLong {
                        limit: max_line_len,
                    }
                } else {
                    invalid
                });
            }
            b'0'..=b'9' => {
                magnitude = magnitude
                    .checked_mul(10)
                    .and_then(|m| m.checked_add(u64::from(byte - b'0')))
                    .ok_or(invalid)?;
            }
            b'\r' if cr > digits => break,
            _ => return Err(invalid),
        }
        cr += 1;
    }
    match buf.get(cr + 1) {
        None => return Ok(None),
        Some(b'\n') => {}
        Some(_) => return Err(DecodeErrorKind::MissingCrlf),
    }
    let value = if negative {
        0i64.checked_sub_unsigned(magnitude)
    } else {
        i64::try_from(magnitude).ok()
    };
    Ok(Some((value.ok_or(invalid)?, cr + 2)))
}

/// Finds the CRLF ending the line at the start of `buf` and returns the
/// index of its `\r`. The search resumes at `*scanned` and records how far
/// it got when the line is still incomplete.
fn find_crlf(
    buf: &[u8],
    scanned: &mut usize,
    max_line_len: usize,
) -> Result<Option<usize>, DecodeErrorKind> {
    // Type byte, content and CRLF.
    let window = buf.len().min(max_line_len.saturating_add(3));
    let from = (*scanned).clamp(1, window);
    match memchr::memchr(b'\n', &buf[from..window]) {
        Some(at) if buf[from + at - 1] == b'\r' => Ok(Some(from + at - 1)),
        Some(_) => Err(DecodeErrorKind::MissingCrlf),
        None if window > max_line_len.saturating_add(2) => Err(DecodeErrorKind::LineTooLong {
            limit: max_line_len,
        }),
        None => {
            *scanned = window;
            Ok(None)
        }
    }
}

/// An optional minus sign and at least one digit.
fn is_big_number(text: &[u8]) -> bool {
    let digits = text.strip_prefix(b"-").unwrap_or(text);
    !digits.is_empty() && digits.iter().all(u8::is_ascii_digit)
}
