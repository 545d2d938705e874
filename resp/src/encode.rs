//! Encoding frames and commands.
//!
//! Everything appends to a caller-owned `Vec<u8>`, so a client can reuse one
//! buffer for a whole pipeline. Lengths and integers are written with a
//! small digit loop rather than the formatting machinery, which is slow and
//! bloats wasm builds.

use std::io::Write;

use crate::Frame;

/// Appends the canonical encoding of `frame`.
///
/// Simple strings, errors and big numbers are written as given: they must
/// not contain CR or LF. [`Frame::Null`] is written as the RESP2 null bulk
/// string `$-1`, which RESP3 servers accept too.
pub fn encode(frame: &Frame, out: &mut Vec<u8>) {
    match frame {
        Frame::Simple(text) => write_line(out, b'+', text),
        Frame::Error(text) => write_line(out, b'-', text),
        Frame::Integer(value) => {
            out.push(b':');
            write_i64(out, *value);
            out.extend_from_slice(b"\r\n");
        }
        Frame::Bulk(data) => write_bulk(out, data),
        Frame::Null => out.extend_from_slice(b"$-1\r\n"),
        Frame::Array(items) => write_seq(out, b'*', items),
        Frame::Double(value) => write_double(out, *value),
        Frame::Boolean(true) => out.extend_from_slice(b"#t\r\n"),
        Frame::Boolean(false) => out.extend_from_slice(b"#f\r\n"),
        Frame::BigNumber(digits) => write_line(out, b'(', digits),
        Frame::BulkError(text) => write_blob(out, b'!', text),
        Frame::Verbatim { format, text } => {
            write_header(out, b'=', text.len() + 4);
            out.extend_from_slice(format);
            out.push(b':');
            out.extend_from_slice(text);
            out.extend_from_slice(b"\r\n");
        }
        Frame::Map(pairs) => write_pairs(out, b'%', pairs),
        Frame::Set(items) => write_seq(out, b'~', items),
        Frame::Push(items) => write_seq(out, b'>', items),
        Frame::Attributed { attributes, frame } => {
            write_pairs(out, b'|', attributes);
            encode(frame, out);
        }
    }
}

/// Appends a command: an array of bulk strings, one per argument.
///
/// ```
/// let mut out = Vec::new();
/// resp::encode_command(&mut out, ["SET", "key", "value"]);
/// assert_eq!(out, b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n");
/// ```
pub fn encode_command<I>(out: &mut Vec<u8>, args: I)
where
    I: IntoIterator,
    I::IntoIter: ExactSizeIterator,
    I::Item: AsRef<[u8]>,
{
    let args = args.into_iter();
    write_array_header(out, args.len());
    for arg in args {
        write_bulk(out, arg.as_ref());
    }
}

/// Appends `*<len>\r\n`, for callers that write the elements themselves.
pub fn write_array_header(out: &mut Vec<u8>, len: usize) {
    write_header(out, b'*', len);
}

/// Appends `$<len>\r\n<data>\r\n`; `data` may hold any bytes.
pub fn write_bulk(out: &mut Vec<u8>, data: &[u8]) {
    write_blob(out, b'$', data);
}

fn write_header(out: &mut Vec<u8>, tag: u8, len: usize) {
    out.push(tag);
    write_u64(out, len as u64);
    out.extend_from_slice(b"\r\n");
}

fn write_blob(out: &mut Vec<u8>, tag: u8, data: &[u8]) {
    write_header(out, tag, data.len());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

fn write_line(out: &mut Vec<u8>, tag: u8, text: &[u8]) {
    out.push(tag);
    out.extend_from_slice(text);
    out.extend_from_slice(b"\r\n");
}

fn write_seq(out: &mut Vec<u8>, tag: u8, items: &[Frame]) {
    write_header(out, tag, items.len());
    for item in items {
        encode(item, out);
    }
}

fn write_pairs(out: &mut Vec<u8>, tag: u8, pairs: &[(Frame, Frame)]) {
    write_header(out, tag, pairs.len());
    for (key, value) in pairs {
        encode(key, out);
        encode(value, out);
    }
}

fn write_double(out: &mut Vec<u8>, value: f64) {
    out.push(b',');
    if value.is_nan() {
        out.extend_from_slice(b"nan");
    } else if value.is_infinite() {
        out.extend_from_slice(if value > 0.0 { b"inf" } else { b"-inf" });
    } else {
        // `Debug` is the shortest text that reads back as the same value,
        // with an exponent for very large or small magnitudes.
        write!(out, "{value:?}").expect("writing to a Vec cannot fail");
    }
    out.extend_from_slice(b"\r\n");
}

fn write_i64(out: &mut Vec<u8>, value: i64) {
    if value < 0 {
        out.push(b'-');
    }
    write_u64(out, value.unsigned_abs());
}

fn write_u64(out: &mut Vec<u8>, mut value: u64) {
    let mut digits = [0u8; 20];
    let mut start = digits.len();
    loop {
        start -= 1;
        digits[start] = b'0' + (value % 10) as u8;
        value /= 10;
        if value == 0 {
            break;
        }
    }
    out.extend_from_slice(&digits[start..]);
}
