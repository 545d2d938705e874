//! Feeds arbitrary bytes to the bridge's command filter in chunks (the first
//! byte picks their size and whether the bridge authenticates) and checks
//! that it never panics, that what it lets through to Redis decodes as
//! whole commands (arrays of bulk strings) up to a command still being
//! received, and that no denied command is among them.

#![no_main]

use std::sync::Arc;

use redis_ws_bridge::policy::{CommandFilter, Policy, DEFAULT_DENIED};
use resp::Frame;

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&seed, input)) = data.split_first() else {
        return;
    };
    let authenticates = seed & 0x80 != 0;
    let policy =
        Policy::new(&["CLIENT|KILL".to_owned()], &[], authenticates).expect("a valid policy");
    let mut filter = CommandFilter::new(Arc::new(policy), 4096);
    let mut out = Vec::new();
    for chunk in input.chunks(usize::from(seed & 0x0f) + 1) {
        if filter.feed(chunk, &mut out).is_err() {
            break;
        }
    }
    check(&out, filter.in_command(), authenticates);
});

fn check(out: &[u8], in_command: bool, authenticates: bool) {
    let mut decoder = resp::Decoder::new();
    decoder.feed(out);
    while let Some(frame) = decoder.decode().expect("the output is RESP") {
        let Frame::Array(args) = frame else {
            panic!("not a command: {frame:?}");
        };
        let args: Vec<Vec<u8>> = args
            .into_iter()
            .map(|arg| match arg {
                Frame::Bulk(arg) => arg.to_ascii_uppercase(),
                other => panic!("not a bulk string: {other:?}"),
            })
            .collect();
        let name = args.first().expect("a command has a name").as_slice();
        assert!(
            !DEFAULT_DENIED
                .iter()
                .any(|denied| denied.as_bytes() == name),
            "a denied command reached Redis"
        );
        assert!(
            !(name == b"CLIENT" && args.get(1).is_some_and(|sub| sub == b"KILL")),
            "a denied subcommand reached Redis"
        );
        if authenticates {
            assert!(
                name != b"AUTH" && name != b"RESET",
                "the browser logged in by itself"
            );
            assert!(
                !(name == b"HELLO" && hello_has_auth(&args[1..])),
                "HELLO with AUTH reached Redis"
            );
        }
    }
    if !in_command {
        assert_eq!(decoder.buffered(), 0, "output ends mid-command");
    }
}

/// Whether upper-cased `HELLO` arguments hold an `AUTH` option (the value
/// of `SETNAME` may be anything).
fn hello_has_auth(args: &[Vec<u8>]) -> bool {
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        match arg.as_slice() {
            b"AUTH" => return true,
            b"SETNAME" => {
                args.next();
            }
            _ => {}
        }
    }
    false
}
