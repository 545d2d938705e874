//! Decoding a 1 MiB buffer of pipelined RESP2 replies with this crate and
//! with its peers, the `redis-protocol` crate and redis-rs' parser; and
//! encoding a typical `SET` command.
//!
//! `cargo bench -p resp --bench decode` measures; `cargo test -p resp
//! --benches` runs each benchmark once as a smoke test.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use resp::{encode, encode_command, Bytes, Decoder, Frame};

/// A deterministic mix of the replies a client sees: status replies,
/// counters, nulls, small and large values, `LRANGE`-style arrays and
/// `XRANGE`-style nested arrays. Returns the bytes and the number of frames.
fn pipelined_replies() -> (Vec<u8>, usize) {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let mut random = move |below: u64| {
        // xorshift64
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state % below
    };
    let bulk = |len: u64| Frame::Bulk(Bytes::from(vec![b'v'; len as usize]));
    let mut out = Vec::new();
    let mut frames = 0;
    while out.len() < 1 << 20 {
        let frame = match random(8) {
            0 => Frame::Simple("OK".into()),
            1 => Frame::Integer(random(1 << 40) as i64 - (1 << 39)),
            2 => Frame::Null,
            3 => bulk(random(16)),
            4 => bulk(64 + random(448)),
            5 if random(8) == 0 => bulk(4096),
            5 => bulk(16 + random(48)),
            6 => Frame::Array((0..10).map(|_| bulk(8 + random(32))).collect()),
            _ => Frame::Array(
                (0..5)
                    .map(|_| {
                        let fields = (0..4).map(|_| bulk(4 + random(12))).collect();
                        Frame::Array(vec![bulk(15), Frame::Array(fields)])
                    })
                    .collect(),
            ),
        };
        encode(&frame, &mut out);
        frames += 1;
    }
    (out, frames)
}

fn decode_resp(input: &[u8]) -> usize {
    let mut decoder = Decoder::new();
    decoder.feed(input);
    let mut frames = 0;
    while let Some(frame) = decoder.decode().unwrap() {
        black_box(frame);
        frames += 1;
    }
    frames
}

fn decode_redis_protocol(input: &[u8]) -> usize {
    let mut buf = BytesMut::from(input);
    let mut frames = 0;
    while let Some((frame, _, _)) =
        redis_protocol::resp2::decode::decode_bytes_mut(&mut buf).unwrap()
    {
        black_box(frame);
        frames += 1;
    }
    frames
}

/// Parses until the input runs out, which this parser reports as an error.
fn decode_redis_rs(input: &[u8]) -> usize {
    let mut parser = redis::Parser::new();
    let mut reader = input;
    let mut frames = 0;
    while let Ok(value) = parser.parse_value(&mut reader) {
        black_box(value);
        frames += 1;
    }
    frames
}

fn decode(c: &mut Criterion) {
    let (input, frames) = pipelined_replies();
    assert_eq!(decode_resp(&input), frames);
    assert_eq!(decode_redis_protocol(&input), frames);
    assert_eq!(decode_redis_rs(&input), frames);

    let mut group = c.benchmark_group("decode 1 MiB of replies");
    group.throughput(Throughput::Bytes(input.len() as u64));
    group.bench_function("resp", |b| b.iter(|| decode_resp(&input)));
    group.bench_function("redis-protocol", |b| {
        b.iter(|| decode_redis_protocol(&input))
    });
    group.bench_function("redis-rs", |b| b.iter(|| decode_redis_rs(&input)));
    group.finish();
}

fn encode_set(c: &mut Criterion) {
    let value = [b'v'; 64];
    let mut out = Vec::with_capacity(256);
    let mut group = c.benchmark_group("encode");
    group.throughput(Throughput::Elements(1));
    group.bench_function("SET command", |b| {
        b.iter(|| {
            out.clear();
            encode_command(&mut out, [&b"SET"[..], b"user:1234:session", &value]);
            black_box(&out);
        })
    });
    group.finish();
}

criterion_group!(benches, decode, encode_set);
criterion_main!(benches);
