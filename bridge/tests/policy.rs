//! The command policy end to end: denied commands answered in their place
//! in the pipeline, in every connection state, and streams that are not
//! commands closing the WebSocket.

mod common;

use std::time::Duration;

use common::*;
use resp::Frame;

fn pipeline(commands: &[&[&str]]) -> Vec<u8> {
    commands.iter().flat_map(|args| command(args)).collect()
}

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
