//! Command names judged as Redis finds commands: only a name the server's
//! table has, ASCII case aside, is relayed; NUL and any other byte outside
//! the alphabet of names, and over-long names, are refused in place; and a
//! restarted server's table is read again.

mod common;

use std::time::{Duration, Instant};

use common::*;
use resp::Frame;

const UNKNOWN: &str = "unknown command: refused by redis-ws-bridge";

/// The error Redis gives for a stand-in.
fn stand_in_error(text: &str) -> String {
    format!("ERR unknown command '{text}', with args beginning with: ")
}

#[tokio::test]
async fn nul_suffixes_never_reach_a_command() {
    let redis = RedisServer::start();
    for profile in ["web", "trusted"] {
        let bridge = Bridge::with_redis(&redis, &["--profile", profile]);
        // The bridge's own start-up reads (COMMAND INFO, CONFIG GET of the
        // client limits) are done once it warns about the limits; only what
        // comes after counts.
        bridge
            .wait_for_log("redis buffers replies for normal clients without bound")
            .await;
        assert_eq!(redis.call(&["CONFIG", "RESETSTAT"]).await, simple("OK"));
        let mut ws = connect(&bridge.url("/")).await;
        // The attack of issue 18: `CONFIG\0<n> GET maxmemory` for n below
        // 3000 lands on CONFIG GET about once in 256 with a name compared
        // as a whole. Here none may, in one message, whatever the profile.
        let mut message = Vec::new();
        let names = ["CONFIG", "FLUSHALL", "GET", "ACL", "MONITOR"];
        for n in 0..3000 {
            let name = format!("{}\0{n}", names[n % names.len()]);
            message.extend(command(&[name.as_bytes(), b"GET", b"maxmemory"]));
        }
        send(&mut ws, &message).await;
        for reply in replies(&mut ws, 3000).await {
            assert_eq!(error_text(&reply), stand_in_error(UNKNOWN));
        }
        round_trip(&mut ws, &command(&["PING"]), b"+PONG\r\n").await;
        let Frame::Bulk(stats) = redis.call(&["INFO", "commandstats"]).await else {
            panic!("INFO is a bulk string");
        };
        let stats = String::from_utf8_lossy(&stats);
        // (CONFIG RESETSTAT above counts itself.)
        for never in [
            "cmdstat_config|get",
            "cmdstat_flushall",
            "cmdstat_get:",
            "cmdstat_acl",
        ] {
            assert!(!stats.contains(never), "{profile}: {never} ran:\n{stats}");
        }
    }
}

#[tokio::test]
async fn bytes_outside_the_name_alphabet_are_refused() {
    let redis = RedisServer::start();
    redis.call(&["SET", "k", "v"]).await;
    let bridge = Bridge::with_redis(&redis, &["--profile", "trusted"]);
    let mut ws = connect(&bridge.url("/")).await;

    let long = vec![b'A'; 65];
    let huge = vec![b'G'; 100_000];
    let names: [&[u8]; 14] = [
        b"GET\0",
        b"\0GET",
        b"GE\0T",
        b"GET ",
        b" GET",
        b"GET\r\n",
        b"G\xc3\x89T",
        b"GET\xff",
        b"CLIENT|LIST",
        b"GETT",
        b"",
        &long,
        &huge,
        b"get\x00\x00\x00\x00\x00\x00\x00\x00",
    ];
    let mut message = Vec::new();
    for name in names {
        message.extend(command(&[name, b"k"]));
    }
    send(&mut ws, &message).await;
    for (reply, name) in replies(&mut ws, names.len()).await.iter().zip(names) {
        assert_eq!(
            error_text(reply),
            stand_in_error(UNKNOWN),
            "{:?}",
            &name[..name.len().min(20)]
        );
    }

    // Subcommands are judged the same way, in the container's name.
    let subcommands: [&[u8]; 4] = [b"LIST\0", b"list ", b"KILLALL", &long];
    let mut message = Vec::new();
    for sub in subcommands {
        message.extend(command(&[b"CLIENT", sub]));
    }
    send(&mut ws, &message).await;
    for reply in replies(&mut ws, subcommands.len()).await {
        let text = "CLIENT: unknown subcommand, refused by redis-ws-bridge";
        assert_eq!(error_text(&reply), stand_in_error(text));
    }

    // Case is the only difference allowed.
    send(&mut ws, &command(&["gEt", "k"])).await;
    assert_eq!(replies(&mut ws, 1).await[0], bulk("v"));
    send(&mut ws, &command(&["client", "GetName"])).await;
    assert_eq!(replies(&mut ws, 1).await[0], Frame::Null);
}

/// Sends `args` through a fresh WebSocket until the reply is not a
/// closed connection (the bridge reads the table again after a restart).
async fn first_reply_after_restart(bridge: &Bridge, args: &[&str]) -> Frame {
    let deadline = Instant::now() + TIMEOUT;
    loop {
        let mut ws = connect(&bridge.url("/")).await;
        send(&mut ws, &command(args)).await;
        let next = tokio::time::timeout(Duration::from_secs(1), replies(&mut ws, 1)).await;
        if let Ok(mut reply) = next {
            return reply.remove(0);
        }
        assert!(Instant::now() < deadline, "no reply after the restart");
    }
}

#[tokio::test]
async fn a_restarted_server_has_its_table_read_again() {
    // First a server without GETDEL...
    let mut redis = RedisServer::start_with(&["--rename-command", "GETDEL", ""]);
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;
    send(&mut ws, &command(&["GETDEL", "k"])).await;
    assert_eq!(
        error_text(&replies(&mut ws, 1).await[0]),
        stand_in_error(UNKNOWN)
    );

    // ...then one with GETDEL but without DEL, on the same port.
    redis.restart_with(&["--rename-command", "DEL", ""]);
    assert_eq!(
        closed_with(&mut ws).await,
        (1011, "redis connection closed".into())
    );
    assert_eq!(
        first_reply_after_restart(&bridge, &["GETDEL", "k"]).await,
        Frame::Null
    );
    let mut ws = connect(&bridge.url("/")).await;
    send(&mut ws, &command(&["DEL", "k"])).await;
    assert_eq!(
        error_text(&replies(&mut ws, 1).await[0]),
        stand_in_error(UNKNOWN)
    );
}

#[tokio::test]
async fn unknown_names_in_flags_are_an_error_at_start() {
    let redis = RedisServer::start();
    let target = redis.addr.to_string();
    for (flag, value) in [
        ("--allow-command", "GETT"),
        ("--deny-command", "client|killall"),
        ("--allow-category", "@nosuch"),
    ] {
        let args = ["--listen", "127.0.0.1:0", "--redis", &target, flag, value];
        let stderr = refused_at_start(&args);
        assert!(
            stderr.contains(&value.to_ascii_uppercase()) || stderr.contains(value),
            "{stderr}"
        );
    }
}
