//! Hostile length headers must not make the decoder allocate: memory is
//! spent only on bytes that actually arrive.
//!
//! A counting global allocator measures that; it sees the whole process, so
//! this binary holds a single test.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

use resp::{DecodeErrorKind, Decoder};

struct Counting;

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        System.alloc(layout)
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        System.dealloc(ptr, layout)
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Bytes allocated while running `f`.
fn allocated_by(f: impl FnOnce()) -> usize {
    let before = ALLOCATED.load(Ordering::Relaxed);
    f();
    ALLOCATED.load(Ordering::Relaxed) - before
}

#[test]
fn length_headers_reserve_nothing() {
    const SMALL: usize = 64 * 1024;

    // Over the bulk limit: refused before any payload is awaited.
    let bytes = allocated_by(|| {
        let mut decoder = Decoder::new();
        decoder.feed(b"$9999999999\r\n");
        let error = decoder.decode().unwrap_err();
        assert!(matches!(error.kind, DecodeErrorKind::BulkTooLong { .. }));
        assert_eq!(decoder.buffered(), 13);
    });
    assert!(bytes < SMALL, "{bytes} bytes allocated");

    // Within the limit: waits for the payload without reserving it.
    let bytes = allocated_by(|| {
        let mut decoder = Decoder::new();
        decoder.feed(b"$536870912\r\n");
        assert_eq!(decoder.decode(), Ok(None));
    });
    assert!(bytes < SMALL, "{bytes} bytes allocated");

    // Four billion elements announced, a few delivered, at every depth.
    let bytes = allocated_by(|| {
        let mut decoder = Decoder::new();
        decoder.feed(&b"*4000000000\r\n".repeat(3));
        decoder.feed(b":1\r\n:2\r\n");
        assert_eq!(decoder.decode(), Ok(None));
        decoder.feed(b"%4000000000\r\n~4000000000\r\n>4000000000\r\n|4000000000\r\n");
        assert_eq!(decoder.decode(), Ok(None));
        assert_eq!(decoder.buffered(), 0);
    });
    // A small preallocation per open level, nowhere near 4e9 elements.
    assert!(bytes < 8 * SMALL, "{bytes} bytes allocated");
}
