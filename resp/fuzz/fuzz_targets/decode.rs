//! Feeds arbitrary bytes in chunks (the first byte picks their size) to
//! `decode` and `decode_streaming` and checks that both agree with decoding
//! the input whole. The check is shared with the property tests.

#![no_main]

#[path = "../../tests/support/mod.rs"]
mod support;

libfuzzer_sys::fuzz_target!(|data: &[u8]| support::check(data));
