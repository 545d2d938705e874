//! Decoding a 1 MiB buffer of pipelined RESP2 replies with this crate and
//! with its peers, the `redis-protocol` crate and redis-rs' parser; and
//! encoding a typical `SET` command.
//!
//! `cargo bench -p resp --bench decode` measures; `cargo test -p resp
//! --benches` runs each benchmark once as a smoke test.

use std::hint::black_box;

use bytes::BytesMut;
use criterion::{criterion_group, criterion_main, Criterion, Throughput};
use resp::corpus::pipelined_replies;
use resp::{encode_command, Decoder};

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
