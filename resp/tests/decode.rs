//! Decoding each frame type, each error and the streaming events.

use resp::{AggregateKind, Bytes, DecodeError, DecodeErrorKind, Decoder, Event, Frame, Limits};

/// Decodes `input`, which must hold exactly one frame.
fn decode(input: &[u8]) -> Frame {
    let mut decoder = Decoder::new();
    decoder.feed(input);
    let frame = decoder.decode().unwrap().expect("a complete frame");
    assert_eq!(decoder.buffered(), 0, "the frame must consume all input");
    assert_eq!(decoder.decode(), Ok(None));
    frame
}

/// Decodes `input` with `limits` until it fails.
fn error_with(limits: Limits, input: &[u8]) -> DecodeError {
    let mut decoder = Decoder::with_limits(limits);
    decoder.feed(input);
    loop {
        match decoder.decode() {
            Ok(Some(_)) => {}
            Ok(None) => panic!("{input:?} decoded without error"),
            Err(error) => return error,
        }
    }
}

fn error(input: &[u8]) -> DecodeError {
    error_with(Limits::default(), input)
}

fn at(kind: DecodeErrorKind, offset: u64) -> DecodeError {
    DecodeError { kind, offset }
}

fn bulk(data: &str) -> Frame {
    Frame::Bulk(Bytes::copy_from_slice(data.as_bytes()))
}

fn simple(text: &str) -> Frame {
    Frame::Simple(Bytes::copy_from_slice(text.as_bytes()))
}

fn events(decoder: &mut Decoder) -> Vec<Event> {
    std::iter::from_fn(|| decoder.decode_streaming().unwrap()).collect()
}

#[test]
fn simple_string() {
    assert_eq!(decode(b"+OK\r\n"), simple("OK"));
    assert_eq!(decode(b"+\r\n"), simple(""));
}

#[test]
fn error_reply() {
    let frame = decode(b"-ERR unknown command\r\n");
    assert_eq!(frame, Frame::Error("ERR unknown command".into()));
    assert!(frame.is_error());
    assert!(decode(b"!3\r\nERR\r\n").is_error());
    assert!(!decode(b"+ERR\r\n").is_error());
}

#[test]
fn integer() {
    assert_eq!(decode(b":0\r\n"), Frame::Integer(0));
    assert_eq!(decode(b":-42\r\n"), Frame::Integer(-42));
    assert_eq!(
        decode(b":9223372036854775807\r\n"),
        Frame::Integer(i64::MAX)
    );
    assert_eq!(
        decode(b":-9223372036854775808\r\n"),
        Frame::Integer(i64::MIN)
    );
}

#[test]
fn bulk_string() {
    assert_eq!(decode(b"$3\r\nfoo\r\n"), bulk("foo"));
    assert_eq!(decode(b"$0\r\n\r\n"), bulk(""));
    assert_eq!(
        decode(b"$4\r\n\r\n\0\xff\r\n"),
        Frame::Bulk((&b"\r\n\0\xff"[..]).into())
    );
}

#[test]
fn nulls() {
    assert_eq!(decode(b"$-1\r\n"), Frame::Null);
    assert_eq!(decode(b"*-1\r\n"), Frame::Null);
    assert_eq!(decode(b"_\r\n"), Frame::Null);
}

#[test]
fn arrays() {
    assert_eq!(decode(b"*0\r\n"), Frame::Array(vec![]));
    assert_eq!(
        decode(b"*3\r\n:1\r\n*2\r\n+a\r\n*0\r\n$-1\r\n"),
        Frame::Array(vec![
            Frame::Integer(1),
            Frame::Array(vec![simple("a"), Frame::Array(vec![])]),
            Frame::Null,
        ])
    );
}

#[test]
fn double() {
    assert_eq!(decode(b",1.5\r\n"), Frame::Double(1.5));
    assert_eq!(decode(b",-2\r\n"), Frame::Double(-2.0));
    assert_eq!(decode(b",1e300\r\n"), Frame::Double(1e300));
    assert_eq!(decode(b",inf\r\n"), Frame::Double(f64::INFINITY));
    assert_eq!(decode(b",-inf\r\n"), Frame::Double(f64::NEG_INFINITY));
    assert!(matches!(decode(b",nan\r\n"), Frame::Double(value) if value.is_nan()));
}

#[test]
fn boolean() {
    assert_eq!(decode(b"#t\r\n"), Frame::Boolean(true));
    assert_eq!(decode(b"#f\r\n"), Frame::Boolean(false));
}

#[test]
fn big_number() {
    assert_eq!(
        decode(b"(3492890328409238509324850943850943825024385\r\n"),
        Frame::BigNumber("3492890328409238509324850943850943825024385".into())
    );
    assert_eq!(decode(b"(-1\r\n"), Frame::BigNumber("-1".into()));
}

#[test]
fn bulk_error() {
    assert_eq!(
        decode(b"!21\r\nSYNTAX invalid syntax\r\n"),
        Frame::BulkError("SYNTAX invalid syntax".into())
    );
}

#[test]
fn verbatim() {
    assert_eq!(
        decode(b"=15\r\ntxt:Some string\r\n"),
        Frame::Verbatim {
            format: *b"txt",
            text: "Some string".into()
        }
    );
    assert_eq!(
        decode(b"=4\r\nmkd:\r\n"),
        Frame::Verbatim {
            format: *b"mkd",
            text: Bytes::new()
        }
    );
}

#[test]
fn map() {
    assert_eq!(decode(b"%0\r\n"), Frame::Map(vec![]));
    assert_eq!(
        decode(b"%2\r\n+first\r\n:1\r\n+second\r\n%1\r\n:2\r\n#t\r\n"),
        Frame::Map(vec![
            (simple("first"), Frame::Integer(1)),
            (
                simple("second"),
                Frame::Map(vec![(Frame::Integer(2), Frame::Boolean(true))])
            ),
        ])
    );
}

#[test]
fn set_and_push() {
    assert_eq!(decode(b"~0\r\n"), Frame::Set(vec![]));
    assert_eq!(
        decode(b"~2\r\n+a\r\n+b\r\n"),
        Frame::Set(vec![simple("a"), simple("b")])
    );
    assert_eq!(
        decode(b">3\r\n$7\r\nmessage\r\n$2\r\nch\r\n$2\r\nhi\r\n"),
        Frame::Push(vec![bulk("message"), bulk("ch"), bulk("hi")])
    );
}

#[test]
fn attributed() {
    let ttl = vec![(simple("ttl"), Frame::Integer(3600))];
    assert_eq!(
        decode(b"|1\r\n+ttl\r\n:3600\r\n$3\r\nfoo\r\n"),
        Frame::Attributed {
            attributes: ttl.clone(),
            frame: Box::new(bulk("foo"))
        }
    );
    // An attribute annotating an aggregate, inside an aggregate.
    assert_eq!(
        decode(b"*2\r\n|1\r\n+ttl\r\n:3600\r\n*1\r\n:1\r\n:2\r\n"),
        Frame::Array(vec![
            Frame::Attributed {
                attributes: ttl,
                frame: Box::new(Frame::Array(vec![Frame::Integer(1)]))
            },
            Frame::Integer(2),
        ])
    );
    // Empty and nested attributes.
    assert_eq!(
        decode(b"|0\r\n|0\r\n_\r\n"),
        Frame::Attributed {
            attributes: vec![],
            frame: Box::new(Frame::Attributed {
                attributes: vec![],
                frame: Box::new(Frame::Null)
            })
        }
    );
}

#[test]
fn pipelined_frames_come_one_at_a_time() {
    let mut decoder = Decoder::new();
    decoder.feed(b"+OK\r\n:1\r\n$1\r\nx");
    assert_eq!(decoder.decode(), Ok(Some(simple("OK"))));
    assert_eq!(decoder.decode(), Ok(Some(Frame::Integer(1))));
    assert_eq!(decoder.decode(), Ok(None));
    assert_eq!(decoder.buffered(), 5);
    decoder.buffer_mut().extend_from_slice(b"\r\n");
    assert_eq!(decoder.decode(), Ok(Some(bulk("x"))));
    assert_eq!(decoder.buffered(), 0);
}

#[test]
fn invalid_type() {
    assert_eq!(error(b"?"), at(DecodeErrorKind::InvalidType(b'?'), 0));
    assert_eq!(
        error(b"+OK\r\n*2\r\n:1\r\nx"),
        at(DecodeErrorKind::InvalidType(b'x'), 13)
    );
}

#[test]
fn invalid_length() {
    for input in [
        &b"$abc\r\n"[..],
        b"$\r\n",
        b"$-2\r\n",
        b"$+1\r\n",
        b"!-1\r\n",
        b"*-2\r\n",
        b"~-1\r\n",
        b"%1x\r\n",
        b"*99999999999999999999\r\n",
    ] {
        assert_eq!(
            error(input),
            at(DecodeErrorKind::InvalidLength, 0),
            "{input:?}"
        );
    }
    assert_eq!(
        error(b":1\r\n*1\r\n$x\r\n"),
        at(DecodeErrorKind::InvalidLength, 8)
    );
}

#[test]
fn bulk_too_long() {
    let error = error(b"$9999999999\r\n");
    assert_eq!(
        error,
        at(
            DecodeErrorKind::BulkTooLong {
                len: 9_999_999_999,
                limit: 512 * 1024 * 1024
            },
            0
        )
    );
    assert_eq!(
        error.to_string(),
        "bulk length 9999999999 exceeds the limit of 536870912 bytes at byte 0"
    );
    let limits = Limits {
        max_bulk_len: 3,
        ..Limits::default()
    };
    assert_eq!(
        error_with(limits, b"$3\r\nfoo\r\n!4\r\n"),
        at(DecodeErrorKind::BulkTooLong { len: 4, limit: 3 }, 9)
    );
}

#[test]
fn oversized_headers_reserve_nothing() {
    let mut decoder = Decoder::new();
    decoder.feed(b"$536870912\r\n");
    assert_eq!(decoder.decode(), Ok(None));
    decoder.feed(b"partial payload");
    assert_eq!(decoder.decode(), Ok(None));
    assert_eq!(decoder.buffered(), 27);
    assert!(decoder.buffer_mut().capacity() < 1024);
}

#[test]
fn too_deep() {
    let limits = Limits {
        max_depth: 2,
        ..Limits::default()
    };
    let mut decoder = Decoder::with_limits(limits);
    decoder.feed(b"*1\r\n*1\r\n:1\r\n");
    assert!(decoder.decode().unwrap().is_some());
    assert_eq!(
        error_with(limits, b"*1\r\n*1\r\n*1\r\n:1\r\n"),
        at(DecodeErrorKind::TooDeep { limit: 2 }, 8)
    );
    // Attributes count as a level, even empty ones.
    assert_eq!(
        error_with(limits, b"|0\r\n|0\r\n|0\r\n:1\r\n"),
        at(DecodeErrorKind::TooDeep { limit: 2 }, 8)
    );
    let deep = b"*1\r\n".repeat(129);
    assert_eq!(
        error(&deep),
        at(DecodeErrorKind::TooDeep { limit: 128 }, 128 * 4)
    );
}

#[test]
fn line_too_long() {
    let limits = Limits {
        max_line_len: 4,
        ..Limits::default()
    };
    let too_long = DecodeErrorKind::LineTooLong { limit: 4 };
    let mut decoder = Decoder::with_limits(limits);
    decoder.feed(b"+four\r\n:1234\r\n$4\r\nlong\r\n");
    for _ in 0..3 {
        assert!(decoder.decode().unwrap().is_some());
    }
    // Fails as soon as the limit is passed, without waiting for CRLF.
    assert_eq!(error_with(limits, b"+OK\r\n+fivesix"), at(too_long, 5));
    assert_eq!(error_with(limits, b":12345"), at(too_long, 0));
    assert_eq!(error_with(limits, b"*10000\r\n"), at(too_long, 0));
    let default = error(&[b'+'; 70_000]);
    assert_eq!(
        default,
        at(DecodeErrorKind::LineTooLong { limit: 64 * 1024 }, 0)
    );
}

#[test]
fn invalid_integer() {
    for input in [
        &b":\r\n"[..],
        b":-\r\n",
        b":1a\r\n",
        b":+1\r\n",
        b": 1\r\n",
        b":9223372036854775808\r\n",
        b":-9223372036854775809\r\n",
        b":000000000000000000001\r\n",
        b"(\r\n",
        b"(12a\r\n",
    ] {
        assert_eq!(
            error(input),
            at(DecodeErrorKind::InvalidInteger, 0),
            "{input:?}"
        );
    }
}

#[test]
fn invalid_double_boolean_verbatim() {
    assert_eq!(error(b",\r\n"), at(DecodeErrorKind::InvalidDouble, 0));
    assert_eq!(error(b",1.5x\r\n"), at(DecodeErrorKind::InvalidDouble, 0));
    assert_eq!(error(b"#x\r\n"), at(DecodeErrorKind::InvalidBoolean, 0));
    assert_eq!(
        error(b"=3\r\ntxt\r\n"),
        at(DecodeErrorKind::InvalidVerbatim, 0)
    );
    assert_eq!(
        error(b"=5\r\ntxt-x\r\n"),
        at(DecodeErrorKind::InvalidVerbatim, 0)
    );
}

#[test]
fn missing_crlf() {
    for input in [
        &b"+OK\n"[..],
        b"-ERR\n",
        b":1\rx",
        b"$3\r\nfooXY",
        b"$3\r\nfoo\r\r",
        b"*1\r:",
        b"#tx\r\n",
        b"_x\r\n",
        b"+\n",
    ] {
        assert_eq!(
            error(input),
            at(DecodeErrorKind::MissingCrlf, 0),
            "{input:?}"
        );
    }
}

#[test]
fn errors_poison_the_decoder() {
    let mut decoder = Decoder::new();
    decoder.feed(b":1\r\n:x\r\n");
    assert_eq!(decoder.decode(), Ok(Some(Frame::Integer(1))));
    let error = at(DecodeErrorKind::InvalidInteger, 4);
    assert_eq!(decoder.decode(), Err(error));
    decoder.feed(b"+OK\r\n");
    assert_eq!(decoder.decode(), Err(error));
    assert_eq!(decoder.decode_streaming(), Err(error));
    assert_eq!(error.to_string(), "invalid integer at byte 4");
}

#[test]
fn streams_top_level_aggregates() {
    let mut decoder = Decoder::new();
    decoder.feed(b"*3\r\n:1\r\n*1\r\n+a");
    assert_eq!(
        events(&mut decoder),
        [
            Event::Start {
                kind: AggregateKind::Array,
                len: 3
            },
            Event::Item(Frame::Integer(1)),
        ]
    );
    decoder.feed(b"\r\n$-1\r\n+next\r\n");
    assert_eq!(
        events(&mut decoder),
        [
            Event::Item(Frame::Array(vec![simple("a")])),
            Event::Item(Frame::Null),
            Event::End,
            Event::Frame(simple("next")),
        ]
    );
}

#[test]
fn streams_maps_sets_pushes_and_empty_aggregates() {
    let mut decoder = Decoder::new();
    decoder.feed(b"%1\r\n+k\r\n:1\r\n~0\r\n>1\r\n_\r\n|0\r\n*0\r\n");
    assert_eq!(
        events(&mut decoder),
        [
            Event::Start {
                kind: AggregateKind::Map,
                len: 1
            },
            Event::Item(simple("k")),
            Event::Item(Frame::Integer(1)),
            Event::End,
            Event::Start {
                kind: AggregateKind::Set,
                len: 0
            },
            Event::End,
            Event::Start {
                kind: AggregateKind::Push,
                len: 1
            },
            Event::Item(Frame::Null),
            Event::End,
            Event::Frame(Frame::Attributed {
                attributes: vec![],
                frame: Box::new(Frame::Array(vec![]))
            }),
        ]
    );
}

#[test]
fn decode_during_a_stream_is_refused_without_poisoning() {
    let mut decoder = Decoder::new();
    decoder.feed(b"*2\r\n:1\r\n");
    assert!(matches!(
        decoder.decode_streaming(),
        Ok(Some(Event::Start { .. }))
    ));
    assert_eq!(
        decoder.decode(),
        Err(at(DecodeErrorKind::StreamInProgress, 4))
    );
    assert_eq!(
        decoder.decode_streaming(),
        Ok(Some(Event::Item(Frame::Integer(1))))
    );
    decoder.feed(b":2\r\n");
    assert_eq!(
        events(&mut decoder),
        [Event::Item(Frame::Integer(2)), Event::End]
    );
    decoder.feed(b"+OK\r\n");
    assert_eq!(decoder.decode(), Ok(Some(simple("OK"))));
}

#[test]
fn streaming_finishes_an_aggregate_that_decode_began() {
    let mut decoder = Decoder::new();
    decoder.feed(b"*2\r\n:1\r\n");
    assert_eq!(decoder.decode(), Ok(None));
    decoder.feed(b":2\r\n");
    assert_eq!(
        decoder.decode_streaming(),
        Ok(Some(Event::Frame(Frame::Array(vec![
            Frame::Integer(1),
            Frame::Integer(2)
        ]))))
    );
}

#[test]
fn a_large_bulk_string_is_handed_over_with_what_is_buffered_of_it() {
    let mut decoder = Decoder::new();
    // Small, whole, or not a bulk string: the decoder keeps them.
    decoder.feed(b"$3\r\nab");
    assert_eq!(decoder.take_large_bulk(4), None, "shorter than the minimum");
    decoder.feed(b"c\r\n");
    assert_eq!(decoder.decode(), Ok(Some(Frame::Bulk("abc".into()))));
    decoder.feed(b"$5\r\nhello\r\n");
    assert_eq!(decoder.take_large_bulk(4), None, "already whole");
    assert_eq!(decoder.decode(), Ok(Some(Frame::Bulk("hello".into()))));
    decoder.feed(b"*1\r\n$5\r\nhel");
    assert_eq!(decoder.decode(), Ok(None));
    assert_eq!(decoder.take_large_bulk(4), None, "inside an array");
    decoder.feed(b"lo\r\n");
    assert_eq!(
        decoder.decode(),
        Ok(Some(Frame::Array(vec![Frame::Bulk("hello".into())])))
    );
    decoder.feed(b"$-1\r\n");
    assert_eq!(decoder.take_large_bulk(0), None, "nil");
    assert_eq!(decoder.decode(), Ok(Some(Frame::Null)));
    decoder.feed(b"$1");
    assert_eq!(decoder.take_large_bulk(0), None, "a header not yet whole");
    decoder.feed(b"0\r\n0123");

    let (len, buffered) = decoder.take_large_bulk(8).expect("a large bulk string");
    assert_eq!((len, &buffered[..]), (10, &b"0123"[..]));
    assert_eq!(decoder.buffered(), 0);
    // The caller took the rest of the payload and its CRLF; what follows decodes.
    decoder.feed(b":7\r\n");
    assert_eq!(decoder.decode(), Ok(Some(Frame::Integer(7))));
}

#[test]
fn offsets_count_a_bulk_string_handed_over() {
    let mut decoder = Decoder::new();
    decoder.feed(b"$6\r\nab");
    let (len, _) = decoder.take_large_bulk(1).expect("a large bulk string");
    assert_eq!(len, 6);
    decoder.feed(b"?");
    let error = decoder.decode().expect_err("not a type byte");
    // `$6\r\n` (4 bytes), the payload (6) and its CRLF (2) came before.
    assert_eq!(error.offset, 12);
}

#[test]
fn a_bulk_string_over_the_limit_is_left_for_the_decoder_to_refuse() {
    let mut decoder = Decoder::with_limits(resp::Limits {
        max_bulk_len: 8,
        ..resp::Limits::default()
    });
    decoder.feed(b"$9\r\nabc");
    assert_eq!(decoder.take_large_bulk(1), None);
    assert!(decoder.decode().is_err());
}
