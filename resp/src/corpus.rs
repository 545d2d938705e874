//! The benchmark input shared by the native decoder benchmark (`cargo bench
//! -p resp`) and the in-browser one (`bench/run`), so that their speeds
//! compare the same work.

use crate::{encode, Bytes, Frame};

/// A deterministic mix of the replies a client sees: status replies,
/// counters, nulls, small and large values, `LRANGE`-style arrays and
/// `XRANGE`-style nested arrays. Returns the bytes and the number of frames.
pub fn pipelined_replies() -> (Vec<u8>, usize) {
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
