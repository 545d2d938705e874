//! The command policy end to end: denied commands answered in their place
//! in the pipeline, in every connection state; what the web profile denies
//! (every scripting path, other clients, other databases, the server's
//! internals, amplifying offsets) and what it lets the client's features
//! use; and streams that are not commands closing the WebSocket.

mod common;

use std::time::Duration;

use common::*;
use resp::Frame;

fn assert_denied(reply: &Frame, name: &str) {
    let text = error_text(reply);
    assert!(
        text.starts_with("ERR unknown command")
            && text.contains(&format!("'{name}: denied by redis-ws-bridge'")),
        "{text}"
    );
}

#[tokio::test]
async fn denied_command_is_answered_in_its_place() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    send(
        &mut ws,
        &pipeline(&[&["SET", "a", "1"], &["flushall"], &["GET", "a"]]),
    )
    .await;
    let got = replies(&mut ws, 3).await;
    assert_eq!(got[0], simple("OK"));
    assert_denied(&got[1], "FLUSHALL");
    assert_eq!(got[2], bulk("1"));
    assert_eq!(
        redis.call(&["GET", "a"]).await,
        bulk("1"),
        "FLUSHALL never ran"
    );
}

#[tokio::test]
async fn denied_reply_waits_for_a_blocked_command() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    send(
        &mut ws,
        &pipeline(&[&["BLPOP", "queue", "5"], &["FLUSHDB"], &["PING"]]),
    )
    .await;
    // Nothing may come back while BLPOP blocks, the denial included.
    let early = tokio::time::timeout(Duration::from_millis(300), replies(&mut ws, 1)).await;
    assert!(
        early.is_err(),
        "a reply overtook the blocked BLPOP: {early:?}"
    );
    assert_eq!(
        redis.call(&["RPUSH", "queue", "job"]).await,
        Frame::Integer(1)
    );

    let got = replies(&mut ws, 3).await;
    assert_eq!(got[0], Frame::Array(vec![bulk("queue"), bulk("job")]));
    assert_denied(&got[1], "FLUSHDB");
    assert_eq!(got[2], simple("PONG"));
}

#[tokio::test]
async fn transactions_keep_working_and_a_denied_command_aborts_them() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    send(
        &mut ws,
        &pipeline(&[&["MULTI"], &["INCR", "n"], &["INCR", "n"], &["EXEC"]]),
    )
    .await;
    let got = replies(&mut ws, 4).await;
    assert_eq!(got[..3], [simple("OK"), simple("QUEUED"), simple("QUEUED")]);
    assert_eq!(
        got[3],
        Frame::Array(vec![Frame::Integer(1), Frame::Integer(2)])
    );

    // As with any command Redis rejects while queueing, EXEC then fails.
    send(
        &mut ws,
        &pipeline(&[
            &["MULTI"],
            &["INCR", "n"],
            &["FLUSHALL"],
            &["EXEC"],
            &["GET", "n"],
        ]),
    )
    .await;
    let got = replies(&mut ws, 5).await;
    assert_eq!(got[..2], [simple("OK"), simple("QUEUED")]);
    assert_denied(&got[2], "FLUSHALL");
    assert!(error_text(&got[3]).starts_with("EXECABORT"), "{:?}", got[3]);
    assert_eq!(got[4], bulk("2"));
}

#[tokio::test]
async fn pub_sub_keeps_working_and_denials_stay_in_order() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    send(&mut ws, &command(&["SUBSCRIBE", "news", "sport"])).await;
    let got = replies(&mut ws, 2).await;
    assert_eq!(
        got[1],
        Frame::Array(vec![bulk("subscribe"), bulk("sport"), Frame::Integer(2)])
    );
    assert_eq!(
        redis.call(&["PUBLISH", "news", "hello"]).await,
        Frame::Integer(1)
    );
    assert_eq!(
        replies(&mut ws, 1).await[0],
        Frame::Array(vec![bulk("message"), bulk("news"), bulk("hello")])
    );

    // Subscribed: the denial still takes exactly its place.
    send(
        &mut ws,
        &pipeline(&[&["FLUSHALL"], &["PING"], &["UNSUBSCRIBE"]]),
    )
    .await;
    let got = replies(&mut ws, 4).await;
    assert_denied(&got[0], "FLUSHALL");
    assert_eq!(got[1], Frame::Array(vec![bulk("pong"), bulk("")]));
    assert!(matches!(&got[3], Frame::Array(items) if items[2] == Frame::Integer(0)));

    round_trip(&mut ws, &command(&["PING"]), b"+PONG\r\n").await;
}

#[tokio::test]
async fn deny_and_allow_flags() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(
        &redis,
        &[
            "--deny-command",
            "client|kill",
            "--deny-command",
            "GETDEL",
            "--allow-command",
            "config",
        ],
    );
    let mut ws = connect(&bridge.url("/")).await;

    send(
        &mut ws,
        &pipeline(&[
            &["CLIENT", "KILL", "ID", "1"],
            &["CLIENT", "SETNAME", "browser"],
            &["getdel", "k"],
            &["CONFIG", "GET", "maxmemory"],
            &["FLUSHDB"],
        ]),
    )
    .await;
    let got = replies(&mut ws, 5).await;
    assert_denied(&got[0], "CLIENT KILL");
    assert_eq!(got[1], simple("OK"));
    assert_denied(&got[2], "GETDEL");
    assert_eq!(got[3], Frame::Array(vec![bulk("maxmemory"), bulk("0")]));
    assert_denied(&got[4], "FLUSHDB");
}

#[tokio::test]
async fn inline_command_closes_with_1008() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    round_trip(&mut ws, &command(&["PING"]), b"+PONG\r\n").await;
    send(&mut ws, b"FLUSHALL\r\n").await;
    assert_eq!(
        closed_with(&mut ws).await,
        (
            1008,
            "inline commands are not accepted: send RESP arrays of bulk strings".into()
        )
    );
}

#[tokio::test]
async fn resp_that_is_not_a_command_closes_with_1008() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);

    for input in [
        &b"+OK\r\n"[..],
        b"*1\r\n:1\r\n",
        b"*2\r\n$3\r\nGET\r\n*1\r\n$1\r\nk\r\n",
        b"*-1\r\n",
    ] {
        let mut ws = connect(&bridge.url("/")).await;
        send(&mut ws, input).await;
        assert_eq!(
            closed_with(&mut ws).await,
            (1008, "only RESP arrays of bulk strings are accepted".into()),
            "{}",
            String::from_utf8_lossy(input)
        );
    }
}

#[tokio::test]
async fn malformed_resp_closes_with_1002() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;

    send(&mut ws, b"*1\r\n$1\r\nab\r\n").await;
    let (code, reason) = closed_with(&mut ws).await;
    assert_eq!(code, 1002);
    assert!(
        reason.starts_with("malformed RESP: missing CRLF"),
        "{reason}"
    );
    assert!(reason.len() <= 123);
}

#[tokio::test]
async fn oversized_argument_closes_with_1009_at_its_header() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--max-bulk-len", "16"]);
    let mut ws = connect(&bridge.url("/")).await;

    round_trip(
        &mut ws,
        &command(&["SET", "k", "sixteen-bytes-ok"]),
        b"+OK\r\n",
    )
    .await;
    // Only the header of the big argument is sent: it is refused at once.
    send(&mut ws, b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$1000000\r\n").await;
    assert_eq!(
        closed_with(&mut ws).await,
        (1009, "argument longer than 16 bytes".into())
    );
}

/// Asserts `reply` is Redis' answer to the stand-in `{label}: {reason}`.
fn assert_refused(reply: &Frame, label: &str, reason: &str) {
    let text = error_text(reply);
    assert_eq!(
        text,
        format!("ERR unknown command '{label}: {reason}', with args beginning with: ")
    );
}

const DENIED: &str = "denied by redis-ws-bridge";

#[tokio::test]
async fn every_scripting_path_is_denied_by_default() {
    let redis = RedisServer::start();
    redis.call(&["SET", "precious", "1"]).await;
    // A library the page would call into, loaded by the operator.
    let library = "#!lua name=lib\nredis.register_function('wipe', function() return redis.call('FLUSHDB') end)";
    assert_eq!(
        redis.call(&["FUNCTION", "LOAD", library]).await,
        bulk("lib")
    );
    let script = "return redis.call('FLUSHDB')";
    let Frame::Bulk(sha) = redis.call(&["SCRIPT", "LOAD", script]).await else {
        panic!("SCRIPT LOAD gives the sha");
    };
    let sha = String::from_utf8_lossy(&sha).into_owned();
    let Frame::Bulk(dump) = redis.call(&["FUNCTION", "DUMP"]).await else {
        panic!("FUNCTION DUMP gives a payload");
    };
    let dump = String::from_utf8_lossy(&dump).into_owned();

    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;
    let replace = "#!lua name=lib\nredis.register_function('wipe', function() return 1 end)";
    let attempts: [(&[&str], &str); 13] = [
        (&["EVAL", script, "0"], "EVAL"),
        (
            &["EVAL_RO", "return redis.call('GET', 'precious')", "0"],
            "EVAL_RO",
        ),
        (&["EVALSHA", &sha, "0"], "EVALSHA"),
        (&["EVALSHA_RO", &sha, "0"], "EVALSHA_RO"),
        (&["FCALL", "wipe", "0"], "FCALL"),
        (&["FCALL_RO", "wipe", "0"], "FCALL_RO"),
        (&["FUNCTION", "LOAD", "REPLACE", replace], "FUNCTION LOAD"),
        (&["FUNCTION", "DELETE", "lib"], "FUNCTION DELETE"),
        (&["FUNCTION", "FLUSH"], "FUNCTION FLUSH"),
        (
            &["FUNCTION", "RESTORE", &dump, "REPLACE"],
            "FUNCTION RESTORE",
        ),
        (&["SCRIPT", "LOAD", script], "SCRIPT LOAD"),
        (&["SCRIPT", "FLUSH"], "SCRIPT FLUSH"),
        (&["eval\0", script, "0"], "unknown command"),
    ];
    let commands: Vec<_> = attempts.iter().map(|(args, _)| *args).collect();
    let got = replies_to(&mut ws, &commands).await;
    for (reply, (_, label)) in got.iter().zip(attempts) {
        let reason = if label == "unknown command" {
            "refused by redis-ws-bridge"
        } else {
            DENIED
        };
        assert_refused(reply, label, reason);
    }
    assert_eq!(
        redis.call(&["GET", "precious"]).await,
        bulk("1"),
        "nothing was flushed"
    );
    assert_eq!(
        redis.call(&["FCALL", "wipe", "0"]).await,
        simple("OK"),
        "the library is intact"
    );

    // Opted in, scripts run (with every power of the Redis user).
    redis.call(&["SET", "precious", "1"]).await;
    let scripting = Bridge::with_redis(&redis, &["--allow-scripting"]);
    let mut ws = connect(&scripting.url("/")).await;
    send(
        &mut ws,
        &command(&["EVAL", "return redis.call('GET', 'precious')", "0"]),
    )
    .await;
    assert_eq!(replies(&mut ws, 1).await[0], bulk("1"));
}

#[tokio::test]
async fn the_web_profile_denies_what_reaches_beyond_the_page() {
    let redis = RedisServer::start();
    redis.call(&["SET", "k", "v"]).await;
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;
    let attempts: [(&[&str], &str); 26] = [
        (&["CLIENT", "PAUSE", "10000"], "CLIENT PAUSE"),
        (&["CLIENT", "KILL", "TYPE", "normal"], "CLIENT KILL"),
        (&["CLIENT", "LIST"], "CLIENT LIST"),
        (&["CLIENT", "NO-EVICT", "on"], "CLIENT NO-EVICT"),
        (&["CLIENT", "UNBLOCK", "1"], "CLIENT UNBLOCK"),
        (&["CLIENT", "REPLY", "OFF"], "CLIENT REPLY"),
        (&["CLIENT", "INFO"], "CLIENT INFO"),
        (&["CLIENT"], "CLIENT"),
        (&["SWAPDB", "0", "1"], "SWAPDB"),
        (&["SELECT", "1"], "SELECT"),
        (&["MOVE", "k", "1"], "MOVE"),
        (&["KEYS", "*"], "KEYS"),
        (&["RESTORE", "k2", "0", "payload"], "RESTORE"),
        (&["MIGRATE", "127.0.0.1", "1", "k", "0", "1000"], "MIGRATE"),
        (&["SLOWLOG", "GET"], "SLOWLOG GET"),
        (&["LATENCY", "LATEST"], "LATENCY LATEST"),
        (&["INFO"], "INFO"),
        (&["MEMORY", "USAGE", "k"], "MEMORY USAGE"),
        (&["MONITOR"], "MONITOR"),
        (&["SORT", "k"], "SORT"),
        (&["SORT_RO", "k"], "SORT_RO"),
        (&["FLUSHDB"], "FLUSHDB"),
        (&["CONFIG", "GET", "*"], "CONFIG GET"),
        (&["DEBUG", "SLEEP", "10"], "DEBUG"),
        (&["SHUTDOWN"], "SHUTDOWN"),
        (&["ACL", "WHOAMI"], "ACL WHOAMI"),
    ];
    let commands: Vec<_> = attempts.iter().map(|(args, _)| *args).collect();
    let got = replies_to(&mut ws, &commands).await;
    for (reply, (_, label)) in got.iter().zip(attempts) {
        assert_refused(reply, label, DENIED);
    }
    assert_eq!(
        redis.call(&["DBSIZE"]).await,
        Frame::Integer(1),
        "k is still there"
    );
}

#[tokio::test]
async fn client_subcommands_the_client_needs_pass() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;
    send(
        &mut ws,
        &pipeline(&[
            &["CLIENT", "SETNAME", "page"],
            &["client", "getname"],
            &["CLIENT", "ID"],
            &["CLIENT", "TRACKING", "on", "BCAST", "PREFIX", "app:"],
            &["CLIENT", "TRACKING", "off"],
            &["CLIENT", "TRACKING", "on", "OPTIN"],
            &["CLIENT", "CACHING", "yes"],
            &["CLIENT", "TRACKING", "on", "REDIRECT", "1"],
            &["CLIENT", "TRACKING", "on", "redirect\0", "1"],
            &["READONLY"],
            &["HELLO", "3", "SETNAME", "page3"],
            &["HELLO", "2", "AUTH", "default", "x"],
            &["PING"],
        ]),
    )
    .await;
    let got = replies(&mut ws, 13).await;
    assert_eq!(got[0], simple("OK"));
    assert_eq!(got[1], bulk("page"));
    assert!(matches!(got[2], Frame::Integer(_)), "{:?}", got[2]);
    assert_eq!(
        got[3..7],
        [simple("OK"), simple("OK"), simple("OK"), simple("OK")]
    );
    let redirect = "argument not allowed, denied by redis-ws-bridge";
    assert_refused(&got[7], "CLIENT TRACKING", redirect);
    assert_refused(&got[8], "CLIENT TRACKING", redirect);
    // READONLY answers without cluster mode, so it reached Redis.
    assert!(error_text(&got[9]).contains("cluster"), "{:?}", got[9]);
    assert!(
        matches!(&got[10], Frame::Map(_)),
        "HELLO 3 switched protocols: {:?}",
        got[10]
    );
    assert_refused(&got[11], "HELLO", redirect);
    assert_eq!(got[12], simple("PONG"));
}

#[tokio::test]
async fn select_needs_allow_select() {
    let redis = RedisServer::start();
    redis.call(&["SET", "k", "v"]).await;
    let bridge = Bridge::with_redis(&redis, &[]);
    let mut ws = connect(&bridge.url("/")).await;
    send(
        &mut ws,
        &pipeline(&[
            &["SELECT", "1"],
            &["MOVE", "k", "1"],
            &["COPY", "k", "k2", "DB", "1"],
            &["COPY", "k", "k2", "db\0", "1"],
            &["COPY", "k", "k3", "REPLACE"],
        ]),
    )
    .await;
    let got = replies(&mut ws, 5).await;
    assert_refused(&got[0], "SELECT", DENIED);
    assert_refused(&got[1], "MOVE", DENIED);
    let argument = "argument not allowed, denied by redis-ws-bridge";
    assert_refused(&got[2], "COPY", argument);
    assert_refused(&got[3], "COPY", argument);
    assert_eq!(got[4], Frame::Integer(1));

    let bridge = Bridge::with_redis(&redis, &["--allow-select"]);
    let mut ws = connect(&bridge.url("/")).await;
    send(
        &mut ws,
        &pipeline(&[
            &["COPY", "k", "k2", "DB", "1"],
            &["SELECT", "1"],
            &["GET", "k2"],
        ]),
    )
    .await;
    let got = replies(&mut ws, 3).await;
    assert_eq!(got, [Frame::Integer(1), simple("OK"), bulk("v")]);
}

#[tokio::test]
async fn amplifying_offsets_are_judged() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--max-bulk-len", "1048576"]);
    let mut ws = connect(&bridge.url("/")).await;
    send(
        &mut ws,
        &pipeline(&[
            &["SETRANGE", "k", "536870911", "x"],
            &["SETRANGE", "k", "1048576", "x"],
            &["SETBIT", "b", "4294967295", "1"],
            &["SETBIT", "b", "8388608", "1"],
            &["BITFIELD", "f", "SET", "u8", "#536870911", "1"],
            &[
                "BITFIELD",
                "f",
                "GET",
                "u8",
                "0",
                "INCRBY",
                "i64",
                "4294967296",
                "1",
            ],
            &["BITFIELD", "f", "SET", "u8", "#1048576", "1"],
            &["BITFIELD_RO", "f", "GET", "u8", "#536870911"],
            &["STRLEN", "k"],
        ]),
    )
    .await;
    let got = replies(&mut ws, 9).await;
    let offset = "offset past --max-bulk-len, denied by redis-ws-bridge";
    assert_refused(&got[0], "SETRANGE", offset);
    assert_eq!(got[1], Frame::Integer(1048577));
    assert_refused(&got[2], "SETBIT", offset);
    assert_eq!(got[3], Frame::Integer(0));
    assert_refused(&got[4], "BITFIELD", offset);
    assert_refused(&got[5], "BITFIELD", offset);
    assert!(matches!(&got[6], Frame::Array(_)), "{:?}", got[6]);
    assert_eq!(
        got[7],
        Frame::Array(vec![Frame::Integer(0)]),
        "a read grows nothing"
    );
    assert_eq!(got[8], Frame::Integer(1048577));
}
