//! A deterministic fuzzer of the command filter against Redis' lookup rule
//! (`common/redis_lookup.rs`): pipelines of commands built from the real
//! 7.0 table and mutated — case changes, NUL bytes with suffixes, other
//! bytes, over-long names, subcommands likewise, the arguments the checks
//! judge — fed in random pieces to filters of both profiles, with and
//! without tokens and prefixes, and now and then corrupted. Every command
//! let through must be one Redis resolves only to a command the policy
//! allows, and every command in must give exactly one command out.
//!
//! CI runs a short pass; the long run is
//! `FILTER_FUZZ_CASES=10000000 cargo test --release -p redis-ws-bridge --test filter_fuzz -- --nocapture`.
//! `FILTER_FUZZ_SEED` picks another sequence.

#[allow(dead_code)]
#[path = "common/redis_lookup.rs"]
mod redis_lookup;

use std::sync::Arc;
use std::time::Instant;

use redis_lookup::Setup;
use redis_ws_bridge::policy::rules::{Flags, Profile, Rules};
use redis_ws_bridge::policy::{CommandFilter, Output, Policy, Table};

const MAX_BULK_LEN: usize = 1 << 20;

/// splitmix64: small, fast, and the same everywhere.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n as u64) as usize
    }

    fn pick<'a, T>(&mut self, items: &'a [T]) -> &'a T {
        &items[self.below(items.len())]
    }
}

/// Bytes worth trying in a name.
const BYTES: &[u8] = b"\0\0\0 \r\n|:-_aZ9\xff\xc3\x80\x7f\t";

/// Words the checks look for, and their neighbours.
const WORDS: &[&[u8]] = &[
    b"AUTH",
    b"SETNAME",
    b"REDIRECT",
    b"DB",
    b"STREAMS",
    b"GET",
    b"SET",
    b"INCRBY",
    b"OVERFLOW",
    b"u8",
    b"i64",
    b"#3",
    b"0",
    b"1",
    b"-1",
    b"1048576",
    b"1048577",
    b"8388608",
    b"8388615",
    b"8388616",
    b"536870911",
    b"9223372036854775807",
    b"app:k",
    b"app:*",
    b"*",
    b"other",
    b"default",
    b"pw",
    b"3",
    b"2",
    b"ON",
    b"BCAST",
];

/// Case flips, NUL with a suffix, other bytes in, out or instead.
fn mutate(rng: &mut Rng, mut bytes: Vec<u8>) -> Vec<u8> {
    for _ in 0..rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(7) {
            0 | 1 if at < bytes.len() => {
                bytes[at] ^= 0x20 * u8::from(bytes[at].is_ascii_alphabetic())
            }
            2 => {
                let suffix: Vec<u8> = (0..rng.below(4)).map(|_| *rng.pick(BYTES)).collect();
                bytes.truncate(at.max(1).min(bytes.len()));
                bytes.push(0);
                bytes.extend(suffix);
            }
            3 => bytes.insert(at, *rng.pick(BYTES)),
            4 if at < bytes.len() => bytes[at] = *rng.pick(BYTES),
            5 if at < bytes.len() => {
                bytes.remove(at);
            }
            _ => bytes.extend_from_slice(&[b'A'; 66][..rng.below(67)]),
        }
    }
    bytes
}

/// A name: mostly one of the table's, often mutated; sometimes noise.
fn name(rng: &mut Rng, names: &[&[u8]]) -> Vec<u8> {
    match rng.below(20) {
        0 => (0..rng.below(70)).map(|_| *rng.pick(BYTES)).collect(),
        1 => b"FLUSHALL: denied by redis-ws-bridge".to_vec(),
        2..=8 => rng.pick(names).to_vec(),
        _ => {
            let name = rng.pick(names).to_vec();
            mutate(rng, name)
        }
    }
}

fn command(rng: &mut Rng, table: &Table, names: &[&[u8]]) -> Vec<Vec<u8>> {
    let mut args = vec![name(rng, names)];
    let container = table
        .commands
        .iter()
        .find(|info| info.name.as_bytes().eq_ignore_ascii_case(c_name(&args[0])));
    if let Some(info) = container.filter(|info| !info.subcommands.is_empty()) {
        if rng.below(8) > 0 {
            let sub = rng.pick(&info.subcommands).name.as_bytes().to_vec();
            let sub = if rng.below(3) == 0 {
                mutate(rng, sub)
            } else {
                sub
            };
            args.push(sub);
        }
    }
    for _ in 0..rng.below(7) {
        let word = rng.pick(WORDS).to_vec();
        args.push(if rng.below(4) == 0 {
            mutate(rng, word)
        } else {
            word
        });
    }
    args
}

fn c_name(name: &[u8]) -> &[u8] {
    redis_lookup::c_string(name)
}

struct Config {
    table: Arc<Table>,
    rules: Rules,
    policy: Arc<Policy>,
}

fn configs(table: &Arc<Table>) -> Vec<Config> {
    let mut configs = Vec::new();
    for profile in [Profile::Web, Profile::Trusted] {
        for tokens in [false, true] {
            let flags = Flags {
                profile,
                ..Flags::default()
            };
            let rules = Rules::new(&flags, tokens).expect("rules");
            let policy = Policy::new(table, &rules, MAX_BULK_LEN).expect("a policy");
            configs.push(Config {
                table: Arc::clone(table),
                rules,
                policy: Arc::new(policy),
            });
        }
    }
    configs
}

/// Feeds `input` in pieces; returns the output written and whether the
/// filter refused the stream.
fn filter(filter: &mut CommandFilter, input: &[u8], rng: &mut Rng) -> (Vec<u8>, bool) {
    let mut written = Vec::new();
    let mut out = Output::default();
    let mut rest = input;
    while !rest.is_empty() {
        let piece = if rng.below(3) == 0 {
            rest.len()
        } else {
            1 + rng.below(40)
        };
        let mut chunk = &rest[..piece.min(rest.len())];
        rest = &rest[chunk.len()..];
        while !chunk.is_empty() {
            match filter.feed(chunk, &mut out) {
                Ok(taken) => {
                    written.extend(out.to_vec(chunk));
                    out.clear();
                    chunk = &chunk[taken..];
                }
                Err(_) => return (written, true),
            }
        }
    }
    (written, false)
}

#[test]
fn the_filter_relays_only_what_redis_resolves_to_allowed_commands() {
    let cases: u64 = std::env::var("FILTER_FUZZ_CASES")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20_000);
    let seed: u64 = std::env::var("FILTER_FUZZ_SEED")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(18);
    let bytes = include_bytes!("../testdata/command-info-redis-7.0.15.resp");
    let mut decoder = resp::Decoder::new();
    decoder.feed(bytes);
    let table = Arc::new(Table::from_reply(&decoder.decode().unwrap().unwrap()).unwrap());
    let names: Vec<&[u8]> = table
        .commands
        .iter()
        .map(|info| info.name.as_bytes())
        .collect();
    let configs = configs(&table);
    let index = redis_lookup::Index::new(&table);

    let mut rng = Rng(seed);
    let started = Instant::now();
    let (mut relayed, mut refused_streams) = (0u64, 0u64);
    for case in 0..cases {
        let config = rng.pick(&configs);
        let prefix =
            (config.rules.bridge_authenticates && rng.below(2) == 0).then_some(&b"app:"[..]);
        let commands: Vec<Vec<Vec<u8>>> = (0..1 + rng.below(12))
            .map(|_| command(&mut rng, &config.table, &names))
            .collect();
        let mut input = Vec::new();
        for args in &commands {
            resp::encode_command(&mut input, args);
        }
        let corrupt = rng.below(16) == 0;
        if corrupt {
            for _ in 0..1 + rng.below(3) {
                let at = rng.below(input.len());
                input[at] = *rng.pick(b"*$:\r\n0-9+|%_x\0");
            }
        }
        let mut filter_ = CommandFilter::new(Arc::clone(&config.policy), prefix.map(Into::into));
        let (out, refused) = filter(&mut filter_, &input, &mut rng);
        let setup = Setup {
            index: &index,
            rules: &config.rules,
            max_bulk_len: MAX_BULK_LEN,
            prefix,
        };
        let fail = |why: String| {
            panic!(
                "case {case} (seed {seed}): {why}\ninput: {:?}",
                String::from_utf8_lossy(&input)
            )
        };
        let count = setup
            .check(&out, filter_.in_command() || refused)
            .unwrap_or_else(fail);
        if !corrupt {
            if refused {
                fail("a stream of valid commands was refused".into());
            }
            if count != commands.len() {
                fail(format!("{} commands in, {count} out", commands.len()));
            }
        }
        relayed += count as u64;
        refused_streams += u64::from(refused);
    }
    eprintln!(
        "{cases} cases (seed {seed}) in {:.1} s: {relayed} commands out, {refused_streams} streams refused",
        started.elapsed().as_secs_f64()
    );
}
