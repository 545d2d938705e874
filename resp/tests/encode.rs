//! The bytes each frame and command encodes to.

use resp::{encode, encode_command, write_array_header, write_bulk, Frame};

fn encoded(frame: Frame) -> String {
    let mut out = Vec::new();
    encode(&frame, &mut out);
    String::from_utf8(out).unwrap()
}

#[test]
fn resp2_types() {
    assert_eq!(encoded(Frame::Simple("OK".into())), "+OK\r\n");
    assert_eq!(encoded(Frame::Error("ERR no".into())), "-ERR no\r\n");
    assert_eq!(encoded(Frame::Integer(0)), ":0\r\n");
    assert_eq!(encoded(Frame::Integer(-42)), ":-42\r\n");
    assert_eq!(
        encoded(Frame::Integer(i64::MIN)),
        ":-9223372036854775808\r\n"
    );
    assert_eq!(
        encoded(Frame::Integer(i64::MAX)),
        ":9223372036854775807\r\n"
    );
    assert_eq!(encoded(Frame::Bulk("foo".into())), "$3\r\nfoo\r\n");
    assert_eq!(encoded(Frame::Bulk("".into())), "$0\r\n\r\n");
    assert_eq!(encoded(Frame::Null), "$-1\r\n");
    assert_eq!(
        encoded(Frame::Array(vec![Frame::Integer(1), Frame::Array(vec![])])),
        "*2\r\n:1\r\n*0\r\n"
    );
}

#[test]
fn resp3_types() {
    assert_eq!(encoded(Frame::Boolean(true)), "#t\r\n");
    assert_eq!(encoded(Frame::Boolean(false)), "#f\r\n");
    assert_eq!(encoded(Frame::BigNumber("-12".into())), "(-12\r\n");
    assert_eq!(encoded(Frame::BulkError("ERR x".into())), "!5\r\nERR x\r\n");
    assert_eq!(
        encoded(Frame::Verbatim {
            format: *b"txt",
            text: "Some string".into()
        }),
        "=15\r\ntxt:Some string\r\n"
    );
    assert_eq!(
        encoded(Frame::Map(vec![(Frame::Simple("k".into()), Frame::Null)])),
        "%1\r\n+k\r\n$-1\r\n"
    );
    assert_eq!(encoded(Frame::Set(vec![Frame::Integer(1)])), "~1\r\n:1\r\n");
    assert_eq!(encoded(Frame::Push(vec![])), ">0\r\n");
    assert_eq!(
        encoded(Frame::Attributed {
            attributes: vec![(Frame::Simple("ttl".into()), Frame::Integer(1))],
            frame: Box::new(Frame::Integer(2)),
        }),
        "|1\r\n+ttl\r\n:1\r\n:2\r\n"
    );
}

#[test]
fn doubles() {
    assert_eq!(encoded(Frame::Double(1.5)), ",1.5\r\n");
    assert_eq!(encoded(Frame::Double(-2.0)), ",-2.0\r\n");
    assert_eq!(encoded(Frame::Double(-0.0)), ",-0.0\r\n");
    assert_eq!(encoded(Frame::Double(1e300)), ",1e300\r\n");
    assert_eq!(encoded(Frame::Double(f64::INFINITY)), ",inf\r\n");
    assert_eq!(encoded(Frame::Double(f64::NEG_INFINITY)), ",-inf\r\n");
    assert_eq!(encoded(Frame::Double(f64::NAN)), ",nan\r\n");
}

#[test]
fn commands_append_to_a_reused_buffer() {
    let mut out = Vec::new();
    encode_command(&mut out, ["SET", "key", "value"]);
    encode_command(&mut out, [&b"GET"[..], b"\r\n\0"]);
    encode_command(&mut out, Vec::<Vec<u8>>::new());
    assert_eq!(
        out,
        b"*3\r\n$3\r\nSET\r\n$3\r\nkey\r\n$5\r\nvalue\r\n*2\r\n$3\r\nGET\r\n$3\r\n\r\n\0\r\n*0\r\n"
    );
}

#[test]
fn commands_written_piecewise() {
    let mut out = Vec::new();
    write_array_header(&mut out, 2);
    write_bulk(&mut out, b"PING");
    write_bulk(&mut out, &[0xff; 10]);
    let mut expected = b"*2\r\n$4\r\nPING\r\n$10\r\n".to_vec();
    expected.extend_from_slice(&[0xff; 10]);
    expected.extend_from_slice(b"\r\n");
    assert_eq!(out, expected);
}
