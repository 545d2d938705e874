//! Property tests: round trips, chunking independence and hostile bytes.

mod support;

use proptest::collection::vec;
use proptest::prelude::*;
use proptest::sample::Index;
use resp::{encode, Bytes, Frame};
use support::{check, decode_chunks, reassemble, stream_chunks};

/// Text of simple strings and errors, which cannot hold CR or LF.
fn line() -> impl Strategy<Value = Bytes> {
    vec(
        any::<u8>().prop_filter("CR or LF", |b| !matches!(b, b'\r' | b'\n')),
        0..12,
    )
    .prop_map(Bytes::from)
}

fn blob() -> impl Strategy<Value = Bytes> {
    vec(any::<u8>(), 0..24).prop_map(Bytes::from)
}

/// Any double but NaN, which never equals itself (see `nan_round_trips`).
fn double() -> impl Strategy<Value = f64> {
    use proptest::num::f64::{INFINITE, NEGATIVE, NORMAL, POSITIVE, SUBNORMAL, ZERO};
    POSITIVE | NEGATIVE | NORMAL | SUBNORMAL | ZERO | INFINITE
}

fn frame() -> impl Strategy<Value = Frame> {
    let leaf = prop_oneof![
        line().prop_map(Frame::Simple),
        line().prop_map(Frame::Error),
        any::<i64>().prop_map(Frame::Integer),
        blob().prop_map(Frame::Bulk),
        Just(Frame::Null),
        double().prop_map(Frame::Double),
        any::<bool>().prop_map(Frame::Boolean),
        "-?[0-9]{1,40}".prop_map(|digits| Frame::BigNumber(digits.into())),
        blob().prop_map(Frame::BulkError),
        (any::<[u8; 3]>(), blob()).prop_map(|(format, text)| Frame::Verbatim { format, text }),
    ];
    leaf.prop_recursive(4, 48, 6, |inner| {
        let items = vec(inner.clone(), 0..6);
        let pairs = vec((inner.clone(), inner.clone()), 0..4);
        prop_oneof![
            items.clone().prop_map(Frame::Array),
            items.clone().prop_map(Frame::Set),
            items.prop_map(Frame::Push),
            pairs.clone().prop_map(Frame::Map),
            (pairs, inner).prop_map(|(attributes, frame)| Frame::Attributed {
                attributes,
                frame: Box::new(frame)
            }),
        ]
    })
}

fn encode_all(frames: &[Frame]) -> Vec<u8> {
    let mut out = Vec::new();
    for frame in frames {
        encode(frame, &mut out);
    }
    out
}

/// Cuts `buf` at the given points, empty chunks included.
fn split<'a>(buf: &'a [u8], points: &[Index]) -> Vec<&'a [u8]> {
    let mut cuts: Vec<usize> = points.iter().map(|p| p.index(buf.len() + 1)).collect();
    cuts.sort_unstable();
    let mut start = 0;
    let mut chunks: Vec<&[u8]> = cuts
        .into_iter()
        .map(|cut| {
            let chunk = &buf[start..cut];
            start = cut;
            chunk
        })
        .collect();
    chunks.push(&buf[start..]);
    chunks
}

proptest! {
    #[test]
    fn frames_round_trip(frame in frame()) {
        let outcome = decode_chunks([&encode_all(std::slice::from_ref(&frame))[..]]);
        prop_assert_eq!(outcome.error, None);
        prop_assert_eq!(outcome.items, vec![frame]);
    }

    #[test]
    fn any_chunking_decodes_like_the_whole(
        frames in vec(frame(), 1..6),
        points in vec(any::<Index>(), 0..12),
    ) {
        let buf = encode_all(&frames);
        let whole = decode_chunks([&buf[..]]);
        prop_assert_eq!(whole.error, None);
        prop_assert_eq!(&whole.items, &frames);
        prop_assert_eq!(decode_chunks(split(&buf, &points)).items, frames.clone());
        prop_assert_eq!(decode_chunks(buf.chunks(1)).items, frames);
    }

    #[test]
    fn streaming_is_chunking_independent_and_reassembles(
        frames in vec(frame(), 1..6),
        points in vec(any::<Index>(), 0..12),
    ) {
        let buf = encode_all(&frames);
        let whole = stream_chunks([&buf[..]]);
        prop_assert_eq!(whole.error, None);
        for chunked in [stream_chunks(split(&buf, &points)), stream_chunks(buf.chunks(1))] {
            prop_assert_eq!(chunked.error, None);
            prop_assert_eq!(&chunked.items, &whole.items);
        }
        prop_assert_eq!(reassemble(whole.items), frames);
    }

    #[test]
    fn random_bytes_are_handled(data in vec(any::<u8>(), 0..512)) {
        check(&data);
    }

    #[test]
    fn corrupted_frames_are_handled(
        frames in vec(frame(), 1..4),
        chunk_size in any::<u8>(),
        edits in vec((any::<Index>(), any::<u8>()), 1..4),
    ) {
        let mut data = vec![chunk_size];
        data.extend(encode_all(&frames));
        for (at, byte) in edits {
            let at = at.index(data.len());
            data[at] = byte;
        }
        check(&data);
    }
}

#[test]
fn nan_round_trips() {
    let outcome = decode_chunks([&encode_all(&[Frame::Double(f64::NAN)])[..]]);
    assert!(matches!(outcome.items[..], [Frame::Double(value)] if value.is_nan()));
}
