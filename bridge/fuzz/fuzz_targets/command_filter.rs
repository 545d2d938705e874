//! Fuzzes the command filter against Redis' own lookup rule (the oracle in
//! `tests/common/redis_lookup.rs`): whatever it lets through must be, to
//! Redis' `strcasecmp` lookup, only a command the policy allows, with
//! allowed arguments, and a stand-in must resolve to nothing.
//!
//! The first byte picks the filter (profile, tokens, prefix), how the input
//! is cut into messages, and whether the rest is a raw byte stream or
//! commands (arguments split at 0xfe, commands at 0xff), so that the fuzzer
//! spends its time on names rather than on RESP framing. For those, every
//! command in must give exactly one command out.
//!
//! ```sh
//! cd bridge/fuzz
//! RUSTC_BOOTSTRAP=1 cargo fuzz run --sanitizer none command_filter -- -dict=command_names.dict -runs=10000000
//! ```

#![no_main]

#[allow(dead_code)]
#[path = "../../tests/common/redis_lookup.rs"]
mod redis_lookup;

use std::sync::{Arc, OnceLock};

use redis_lookup::{Index, Setup};
use redis_ws_bridge::policy::rules::{Flags, Profile, Rules};
use redis_ws_bridge::policy::{CommandFilter, Output, Policy, Table};

const MAX_BULK_LEN: usize = 1 << 20;

struct Config {
    rules: Rules,
    policy: Arc<Policy>,
}

fn table() -> &'static Table {
    static TABLE: OnceLock<Table> = OnceLock::new();
    TABLE.get_or_init(|| {
        let bytes = include_bytes!("../../testdata/command-info-redis-7.0.15.resp");
        let mut decoder = resp::Decoder::new();
        decoder.feed(bytes);
        Table::from_reply(&decoder.decode().unwrap().unwrap()).unwrap()
    })
}

fn index() -> &'static Index<'static> {
    static INDEX: OnceLock<Index<'static>> = OnceLock::new();
    INDEX.get_or_init(|| Index::new(table()))
}

fn configs() -> &'static [Config] {
    static CONFIGS: OnceLock<Vec<Config>> = OnceLock::new();
    CONFIGS.get_or_init(|| {
        let mut configs = Vec::new();
        for profile in [Profile::Web, Profile::Trusted] {
            for tokens in [false, true] {
                let flags = Flags {
                    profile,
                    ..Flags::default()
                };
                let rules = Rules::new(&flags, tokens).unwrap();
                let policy = Arc::new(Policy::new(table(), &rules, MAX_BULK_LEN).unwrap());
                configs.push(Config { rules, policy });
            }
        }
        configs
    })
}

libfuzzer_sys::fuzz_target!(|data: &[u8]| {
    let Some((&seed, rest)) = data.split_first() else {
        return;
    };
    let config = &configs()[usize::from(seed & 0x03)];
    let prefix = (seed & 0x04 != 0 && config.rules.bridge_authenticates).then_some(&b"app:"[..]);
    let structured = seed & 0x08 != 0;
    let piece = [1, 3, 16, usize::MAX][usize::from(seed >> 4 & 0x03)];

    let (input, commands) = if structured {
        let mut input = Vec::new();
        let mut count = 0;
        for command in rest.split(|&b| b == 0xff) {
            let args: Vec<&[u8]> = command.split(|&b| b == 0xfe).collect();
            resp::encode_command(&mut input, &args);
            count += 1;
        }
        (input, Some(count))
    } else {
        (rest.to_vec(), None)
    };

    let mut filter = CommandFilter::new(Arc::clone(&config.policy), prefix.map(Into::into));
    let mut written = Vec::new();
    let mut out = Output::default();
    let mut refused = false;
    'feed: for mut chunk in input.chunks(piece.max(1)) {
        while !chunk.is_empty() {
            match filter.feed(chunk, &mut out) {
                Ok(taken) => {
                    written.extend(out.to_vec(chunk));
                    out.clear();
                    chunk = &chunk[taken..];
                }
                Err(_) => {
                    refused = true;
                    break 'feed;
                }
            }
        }
    }
    let setup = Setup {
        index: index(),
        rules: &config.rules,
        max_bulk_len: MAX_BULK_LEN,
        prefix,
    };
    let count = setup
        .check(&written, filter.in_command() || refused)
        .unwrap_or_else(|why| panic!("{why}"));
    if let Some(commands) = commands {
        assert!(!refused, "a stream of commands was refused");
        assert_eq!(count, commands, "commands in and out");
    }
});
