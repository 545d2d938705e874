//! Client-side caching through the core, with the scripted transport of
//! `tests.rs`: what is sent, what a hit skips, and every way an entry goes.

use resp::{Bytes, Frame};

use super::cache::{CacheConfig, TrackingMode};
use super::command::ReplyKind;
use super::pipeline::Outcome;
use super::pool::{Config, Mode, HEALTH_CHECK_MS, MAX_HIT_RUN_MS};
use super::session::Event;
use super::tests::{bulk, cmd, config, resp, simple, streamed, Wire};
use super::ClientError;

pub(super) fn cache_config() -> CacheConfig {
    CacheConfig {
        max_entries: 100,
        max_bytes: 1 << 20,
        ttl_ms: None,
        mode: TrackingMode::Default,
        prefixes: Vec::new(),
        noloop: false,
        commands: None,
    }
}

pub(super) fn cached_config(cache: CacheConfig) -> Config {
    let mut config = config();
    config.remembered.protocol = Some(b"3".to_vec());
    config.cache = Some(cache);
    config
}

/// A client with a cache whose sessions did the RESP3 + tracking handshake.
fn cached(size: usize, mode: Mode, cache: CacheConfig) -> Wire {
    let mut wire = Wire::new(cached_config(cache), size, mode);
    for i in 0..size {
        tracked_handshake(&mut wire, i);
    }
    wire.events.clear();
    wire
}

fn tracked_handshake(wire: &mut Wire, i: usize) {
    wire.open(i);
    let sent = wire.sent(i);
    assert!(
        sent.starts_with(&resp(&[&["HELLO", "3"]])) && sent.contains("TRACKING"),
        "HELLO 3, then CLIENT TRACKING: {sent:?}"
    );
    wire.answer(i, &[Frame::Map(Vec::new()), simple("OK")]);
    assert!(wire.pool.is_connected(i));
}

fn invalidate(keys: &[&str]) -> Frame {
    Frame::Push(vec![
        bulk("invalidate"),
        Frame::Array(keys.iter().map(|k| bulk(k)).collect()),
    ])
}

fn native(args: &[&str]) -> super::cmd::Cmd {
    super::cmd::Cmd::lookup(args, ReplyKind::Native)
}

/// Sends `GET key` as a miss and answers it with `value` and `pttl`.
fn fill(wire: &mut Wire, key: &str, value: &str, pttl: i64) {
    let id = wire.send(native(&["GET", key]));
    assert_eq!(wire.sent(0), resp(&[&["GET", key], &["PTTL", key]]));
    wire.answer(0, &[bulk(value), Frame::Integer(pttl)]);
    assert_eq!(wire.outcome(id), Outcome::Reply(bulk(value)));
}

/// `GET key` served from the cache: nothing sent, the value at once.
fn hit(wire: &mut Wire, key: &str) -> Frame {
    let id = wire.send(native(&["GET", key]));
    assert_eq!(wire.sent(0), "", "a hit sends nothing");
    match wire.outcome(id) {
        Outcome::Reply(frame) => frame,
        other => panic!("{other:?}"),
    }
}

fn misses(wire: &mut Wire, key: &str) -> bool {
    let id = wire.send(native(&["GET", key]));
    let missed = !wire.sent(0).is_empty();
    if !missed {
        wire.outcome(id);
    }
    missed
}

#[test]
fn the_handshake_turns_tracking_on_in_the_configured_mode() {
    let line = |cache: CacheConfig| {
        let mut wire = Wire::new(cached_config(cache), 1, Mode::Single);
        wire.open(0);
        wire.sent(0)
    };
    assert_eq!(
        line(cache_config()),
        resp(&[&["HELLO", "3"], &["CLIENT", "TRACKING", "ON"]])
    );
    let optin = CacheConfig {
        mode: TrackingMode::OptIn,
        noloop: true,
        ..cache_config()
    };
    assert_eq!(
        line(optin),
        resp(&[
            &["HELLO", "3"],
            &["CLIENT", "TRACKING", "ON", "OPTIN", "NOLOOP"]
        ])
    );
    let bcast = CacheConfig {
        mode: TrackingMode::Broadcast,
        prefixes: vec![b"user:".to_vec(), b"cfg:".to_vec()],
        ..cache_config()
    };
    assert_eq!(
        line(bcast),
        resp(&[
            &["HELLO", "3"],
            &["CLIENT", "TRACKING", "ON", "BCAST", "PREFIX", "user:", "PREFIX", "cfg:"]
        ])
    );
}

#[test]
fn a_refused_tracking_command_ends_the_connection_with_the_servers_error() {
    let mut wire = Wire::new(cached_config(cache_config()), 1, Mode::Single);
    wire.open(0);
    wire.sent(0);
    let refused = Frame::Error(Bytes::from_static(b"ERR CLIENT|TRACKING: denied"));
    wire.answer(0, &[Frame::Map(Vec::new()), refused]);
    assert!(wire.pool.is_ended());
}

#[test]
fn a_hit_sends_nothing_and_every_hit_is_a_copy_of_the_frame() {
    let mut wire = cached(1, Mode::Single, cache_config());
    fill(&mut wire, "k", "v", -1);
    assert_eq!(hit(&mut wire, "k"), bulk("v"));
    assert_eq!(hit(&mut wire, "k"), bulk("v"));
    let stats = wire.pool.cache_stats().unwrap();
    assert_eq!((stats.hits, stats.misses, stats.entries), (2, 1, 1));
    assert!(stats.bytes > 0);
}

#[test]
fn an_invalidation_drops_the_entry_before_any_later_reply_resolves() {
    let mut wire = cached(1, Mode::Single, cache_config());
    fill(&mut wire, "k", "v", -1);
    let echo = wire.send(cmd(&["ECHO", "x"]));
    wire.sent(0);
    wire.answer(0, &[invalidate(&["k"]), bulk("x")]);
    let at = wire
        .events
        .iter()
        .position(|e| matches!(e, Event::Invalidate { keys: Some(keys), .. } if keys[0] == "k"));
    assert!(at.is_some(), "{:?}", wire.events);
    assert!(wire.pushes.is_empty(), "an invalidation is the cache's");
    assert_eq!(wire.outcome(echo), Outcome::Reply(bulk("x")));
    assert!(misses(&mut wire, "k"));
    assert_eq!(wire.pool.cache_stats().unwrap().invalidations, 1);
}

#[test]
fn a_read_in_flight_when_its_key_changes_is_not_stored() {
    // The invalidation before the read's reply, and between it and its PTTL.
    for split in [0, 1] {
        let mut wire = cached(1, Mode::Single, cache_config());
        let id = wire.send(native(&["GET", "k"]));
        wire.sent(0);
        let mut frames = vec![bulk("old"), Frame::Integer(-1)];
        frames.insert(split, invalidate(&["k"]));
        wire.answer(0, &frames);
        assert_eq!(wire.outcome(id), Outcome::Reply(bulk("old")));
        assert_eq!(wire.pool.cache_stats().unwrap().entries, 0, "split {split}");
    }
}

#[test]
fn a_null_invalidation_a_flush_of_our_own_and_select_drop_everything() {
    let mut wire = cached(1, Mode::Single, cache_config());
    fill(&mut wire, "a", "1", -1);
    fill(&mut wire, "b", "2", -1);
    wire.answer(0, &[Frame::Push(vec![bulk("invalidate"), Frame::Null])]);
    assert!(matches!(
        wire.events.last(),
        Some(Event::Invalidate { keys: None, .. })
    ));
    assert_eq!(wire.pool.cache_stats().unwrap().entries, 0);
    for flush in [&["FLUSHDB"][..], &["FLUSHALL", "ASYNC"], &["SELECT", "0"]] {
        fill(&mut wire, "a", "1", -1);
        wire.send(cmd(flush));
        assert_eq!(
            wire.pool.cache_stats().unwrap().entries,
            0,
            "{flush:?} empties the cache as it is sent"
        );
        wire.sent(0);
        wire.answer(0, &[simple("OK")]);
    }
}

#[test]
fn our_own_write_drops_its_keys_when_sent_and_again_when_answered() {
    let cache = CacheConfig {
        noloop: true,
        ..cache_config()
    };
    let mut wire = cached(1, Mode::Single, cache);
    fill(&mut wire, "k", "v", -1);
    fill(&mut wire, "other", "o", -1);
    let set = wire.send(cmd(&["SET", "k", "w"]));
    assert!(misses(&mut wire, "k"), "gone as soon as the write is sent");
    wire.sent(0);
    wire.answer(0, &[simple("OK"), bulk("w"), Frame::Integer(-1)]);
    assert_eq!(wire.outcome(set), Outcome::Reply(simple("OK")));
    assert_eq!(hit(&mut wire, "other"), bulk("o"), "other keys stay");
}

#[test]
fn on_a_pool_a_read_racing_a_write_on_another_socket_is_not_kept() {
    let mut wire = cached(2, Mode::Pool, cache_config());
    // The write leaves on one socket; the read on the other runs first in
    // Redis and sees the old value, whose invalidation is still on its way.
    let set = wire.send(cmd(&["SET", "k", "new"]));
    let get = wire.send(native(&["GET", "k"]));
    assert_eq!(wire.sent(0), resp(&[&["SET", "k", "new"]]));
    assert_eq!(wire.sent(1), resp(&[&["GET", "k"], &["PTTL", "k"]]));
    wire.answer(1, &[bulk("old"), Frame::Integer(-1)]);
    assert_eq!(wire.outcome(get), Outcome::Reply(bulk("old")));
    wire.answer(0, &[simple("OK")]);
    assert_eq!(wire.outcome(set), Outcome::Reply(simple("OK")));
    assert_eq!(
        wire.pool.cache_stats().unwrap().entries,
        0,
        "once the write is acknowledged, no older value is served"
    );
}

#[test]
fn entries_honour_the_keys_ttl_and_the_maximum_ttl() {
    let cache = CacheConfig {
        ttl_ms: Some(1000.0),
        ..cache_config()
    };
    let mut wire = cached(1, Mode::Single, cache);
    fill(&mut wire, "short", "s", 300);
    fill(&mut wire, "long", "l", -1);
    wire.now += 299.0;
    assert_eq!(hit(&mut wire, "short"), bulk("s"));
    wire.now += 2.0;
    assert!(misses(&mut wire, "short"), "past the key's TTL");
    wire.answer(0, &[bulk("s2"), Frame::Integer(5000)]);
    wire.now += 698.0;
    assert_eq!(hit(&mut wire, "long"), bulk("l"));
    wire.now += 2.0;
    assert!(misses(&mut wire, "long"), "past the maximum TTL");
    let stats = wire.pool.cache_stats().unwrap();
    assert_eq!(stats.evictions, 2);
}

#[test]
fn the_least_recently_used_entry_goes_first() {
    let cache = CacheConfig {
        max_entries: 2,
        ..cache_config()
    };
    let mut wire = cached(1, Mode::Single, cache);
    fill(&mut wire, "a", "1", -1);
    fill(&mut wire, "b", "2", -1);
    hit(&mut wire, "a");
    fill(&mut wire, "c", "3", -1);
    assert_eq!(hit(&mut wire, "a"), bulk("1"));
    assert_eq!(hit(&mut wire, "c"), bulk("3"));
    assert!(misses(&mut wire, "b"));
    assert_eq!(wire.pool.cache_stats().unwrap().evictions, 1);
}

#[test]
fn a_lost_socket_clears_the_cache_and_the_reconnect_tracks_again() {
    let mut wire = cached(1, Mode::Single, cache_config());
    fill(&mut wire, "k", "v", -1);
    let inflight = wire.send(native(&["GET", "j"]));
    wire.sent(0);
    wire.drop_socket(0);
    assert_eq!(wire.pool.cache_stats().unwrap().entries, 0);
    assert!(matches!(
        wire.failed(inflight),
        ClientError::ConnectionLost(_)
    ));
    wire.advance(10_000.0);
    tracked_handshake(&mut wire, 0);
    assert!(misses(&mut wire, "k"));
}

#[test]
fn opt_in_mode_asks_for_each_cached_read_and_broadcast_keeps_only_its_prefixes() {
    let cache = CacheConfig {
        mode: TrackingMode::OptIn,
        ..cache_config()
    };
    let mut wire = cached(1, Mode::Single, cache);
    let id = wire.send(native(&["GET", "k"]));
    assert_eq!(
        wire.sent(0),
        resp(&[&["CLIENT", "CACHING", "YES"], &["GET", "k"], &["PTTL", "k"]])
    );
    wire.answer(0, &[simple("OK"), bulk("v"), Frame::Integer(-1)]);
    assert_eq!(wire.outcome(id), Outcome::Reply(bulk("v")));
    assert_eq!(hit(&mut wire, "k"), bulk("v"));

    let cache = CacheConfig {
        mode: TrackingMode::Broadcast,
        prefixes: vec![b"user:".to_vec()],
        ..cache_config()
    };
    let mut wire = cached(1, Mode::Single, cache);
    fill(&mut wire, "user:1", "ann", -1);
    assert_eq!(hit(&mut wire, "user:1"), bulk("ann"));
    let other = wire.send(native(&["GET", "order:1"]));
    assert_eq!(
        wire.sent(0),
        resp(&[&["GET", "order:1"]]),
        "no PTTL: not cached"
    );
    wire.answer(0, &[bulk("x")]);
    wire.outcome(other);
    assert_eq!(wire.pool.cache_stats().unwrap().entries, 1);
}

#[test]
fn only_deterministic_reads_with_keys_are_cached_and_kept_whole() {
    let mut wire = cached(1, Mode::Single, cache_config());
    for line in [
        &["TTL", "k"][..],
        &["SET", "k", "v"],
        &["RANDOMKEY"],
        &["SRANDMEMBER", "s"],
        &["BLPOP", "l", "1"],
        &["EVAL_RO", "return 1", "1", "k"],
        &["PING"],
    ] {
        let id = wire.send(cmd(line));
        assert_eq!(wire.sent(0), resp(&[line]), "{line:?} is sent alone");
        wire.answer(0, &[Frame::Integer(1)]);
        wire.outcome(id);
    }
    // A reply kind that streams comes whole when it is read for the cache.
    let id = wire.send(streamed(&["LRANGE", "l", "0", "-1"]));
    wire.sent(0);
    let list = Frame::Array(vec![bulk("a"), bulk("b")]);
    wire.answer(0, &[list.clone(), Frame::Integer(-1)]);
    assert_eq!(wire.outcome(id), Outcome::Reply(list.clone()));
    let again = wire.send(streamed(&["LRANGE", "l", "0", "-1"]));
    assert_eq!(wire.sent(0), "");
    assert_eq!(wire.outcome(again), Outcome::Reply(list));
}

#[test]
fn an_idle_cached_socket_is_pinged_and_given_up_when_the_ping_goes_unanswered() {
    let mut wire = cached(1, Mode::Single, cache_config());
    fill(&mut wire, "k", "v", -1);
    wire.advance(HEALTH_CHECK_MS - 1.0);
    assert_eq!(wire.sent(0), "");
    wire.advance(1.0);
    assert_eq!(wire.sent(0), resp(&[&["PING"]]));
    wire.answer(0, &[simple("PONG")]);
    assert_eq!(
        hit(&mut wire, "k"),
        bulk("v"),
        "an answered check keeps the cache"
    );
    assert_eq!(wire.pool.next_deadline(), Some(wire.now + HEALTH_CHECK_MS));
    wire.advance(HEALTH_CHECK_MS);
    assert_eq!(wire.sent(0), resp(&[&["PING"]]));
    wire.advance(HEALTH_CHECK_MS);
    assert!(
        !wire.pool.is_connected(0),
        "no reply: the socket is given up"
    );
    assert_eq!(wire.pool.cache_stats().unwrap().entries, 0);
    assert!(wire
        .events
        .iter()
        .any(|e| matches!(e, Event::Reconnecting { .. })));
}

#[test]
fn a_long_run_of_hits_without_socket_input_reads_from_redis_again() {
    let mut wire = cached(1, Mode::Single, cache_config());
    fill(&mut wire, "k", "v", -1);
    hit(&mut wire, "k");
    wire.now += MAX_HIT_RUN_MS;
    hit(&mut wire, "k");
    wire.now += 1.0;
    let id = wire.send(native(&["GET", "k"]));
    assert_eq!(
        wire.sent(0),
        resp(&[&["GET", "k"], &["PTTL", "k"]]),
        "its reply comes after whatever the socket holds"
    );
    wire.answer(0, &[bulk("v"), Frame::Integer(-1)]);
    assert_eq!(wire.outcome(id), Outcome::Reply(bulk("v")));
    assert_eq!(hit(&mut wire, "k"), bulk("v"), "input came: hits again");
}
