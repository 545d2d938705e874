//! Token mode keeps who the connection is: the browser's AUTH, RESET and
//! HELLO with options other than a protocol version and SETNAME are
//! refused however they are spelled; the bridge refuses to start in front
//! of a Redis that lets anyone in without credentials; and it reads the
//! command table as the first token user that may.

mod common;

use common::*;
use resp::Frame;

const ALICE: &str = "alice-token-0123456789abcdef";
const BOB: &str = "bob-token-0123456789abcdef";

fn tokens(dir: &TempDir, entries: &[(&str, &str)]) -> String {
    let contents: String = entries
        .iter()
        .map(|(token, user)| token_entry(token, user, &format!("{user}-pw")))
        .collect();
    dir.write("tokens.toml", &contents)
}

fn user(name: &str, rules: &[&'static str]) -> Vec<String> {
    let mut args = vec![
        "--user".into(),
        name.into(),
        "on".into(),
        format!(">{name}-pw"),
    ];
    args.extend(rules.iter().map(|rule| rule.to_string()));
    args
}

fn redis_with(users: &[Vec<String>], protected: bool) -> RedisServer {
    let args: Vec<&str> = users.iter().flatten().map(String::as_str).collect();
    if protected {
        RedisServer::start_protected(&args)
    } else {
        RedisServer::start_with(&args)
    }
}

#[tokio::test]
async fn auth_reset_and_hello_options_are_refused_however_spelled() {
    let all = ["~*", "&*", "+@all"];
    let redis = redis_with(&[user("alice", &all), user("bob", &all)], true);
    let dir = TempDir::new(&[]);
    let file = tokens(&dir, &[(ALICE, "alice")]);
    let bridge = Bridge::with_redis(
        &redis,
        &["--tokens", &file, "--allow-command", "ACL|WHOAMI"],
    );
    let mut ws = connect_with_token(&bridge.url("/"), ALICE).await;

    let identity = "not allowed, redis-ws-bridge authenticates this connection";
    let attempts: [(&[&[u8]], &str); 13] = [
        (&[b"AUTH", b"bob", b"bob-pw"], "AUTH"),
        (&[b"auth", b"bob-pw"], "AUTH"),
        (&[b"AuTh", b"bob", b"bob-pw"], "AUTH"),
        (&[b"RESET"], "RESET"),
        (&[b"reset"], "RESET"),
        (&[b"HELLO", b"2", b"AUTH", b"bob", b"bob-pw"], "HELLO"),
        (&[b"HELLO", b"2", b"AUTH\0", b"bob", b"bob-pw"], "HELLO"),
        (&[b"hello", b"3", b"auth\0x", b"bob", b"bob-pw"], "HELLO"),
        (
            &[b"HELLO", b"3", b"SETNAME", b"n", b"AUTH", b"bob", b"bob-pw"],
            "HELLO",
        ),
        (&[b"HELLO", b"3", b"SETNAME\0", b"n"], "HELLO"),
        (&[b"HELLO", b"3", b"SETNAME"], "HELLO"),
        (&[b"AUTH\0", b"bob", b"bob-pw"], "unknown command"),
        (&[b"RESET\0"], "unknown command"),
    ];
    let commands: Vec<_> = attempts.iter().map(|(args, _)| *args).collect();
    let got = replies_to(&mut ws, &commands).await;
    for (reply, (args, label)) in got.iter().zip(attempts) {
        let reason = match label {
            "unknown command" => "refused by redis-ws-bridge",
            _ => identity,
        };
        let expected =
            format!("ERR unknown command '{label}: {reason}', with args beginning with: ");
        assert_eq!(error_text(reply), expected, "{args:?}");
    }

    // The protocol version and the name may change; the user may not.
    send(
        &mut ws,
        &[
            command(&["HELLO", "2", "SETNAME", "page"]),
            command(&["CLIENT", "GETNAME"]),
            command(&["ACL", "WHOAMI"]),
        ]
        .concat(),
    )
    .await;
    let got = replies(&mut ws, 3).await;
    assert!(matches!(got[0], Frame::Array(_)), "{:?}", got[0]);
    assert_eq!(got[1..], [bulk("page"), bulk("alice")]);
}

#[tokio::test]
async fn a_token_bridge_refuses_an_open_default_user() {
    let redis = redis_with(&[user("alice", &["~*", "&*", "+@all"])], false);
    let dir = TempDir::new(&[]);
    let file = tokens(&dir, &[(ALICE, "alice")]);
    let target = redis.addr.to_string();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--redis",
        &target,
        "--tokens",
        &file,
    ];
    let stderr = refused_at_start(&args);
    assert!(
        stderr.contains("default user") && stderr.contains("--insecure-default-user"),
        "{stderr}"
    );

    let bridge = Bridge::with_redis(&redis, &["--tokens", &file, "--insecure-default-user"]);
    let mut ws = connect_with_token(&bridge.url("/"), ALICE).await;
    round_trip(&mut ws, &command(&["PING"]), b"+PONG\r\n").await;

    // A password on the default user protects it too.
    let mut args = user("alice", &["~*", "&*", "+@all"]);
    args.extend(["--requirepass".into(), "secret".into()]);
    let with_password = redis_with(&[args], false);
    let bridge = Bridge::with_redis(&with_password, &["--tokens", &file]);
    let mut ws = connect_with_token(&bridge.url("/"), ALICE).await;
    round_trip(&mut ws, &command(&["PING"]), b"+PONG\r\n").await;
}

#[tokio::test]
async fn the_table_is_read_as_the_first_user_allowed_to() {
    // Alice may GET only; Bob may read the command table.
    let redis = redis_with(
        &[
            user("alice", &["~*", "+get", "+set"]),
            user("bob", &["~*", "+get", "+command|info"]),
        ],
        true,
    );
    redis.call(&["SET", "k", "v"]).await;
    let dir = TempDir::new(&[]);
    let file = tokens(&dir, &[(ALICE, "alice"), (BOB, "bob")]);
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file]);
    let mut ws = connect_with_token(&bridge.url("/"), ALICE).await;
    send(&mut ws, &command(&["GET", "k"])).await;
    assert_eq!(replies(&mut ws, 1).await[0], bulk("v"));

    // Without a user that may, the bridge does not start, and says why.
    let file = tokens(&dir, &[(ALICE, "alice")]);
    let target = redis.addr.to_string();
    let args = [
        "--listen",
        "127.0.0.1:0",
        "--redis",
        &target,
        "--tokens",
        &file,
    ];
    let stderr = refused_at_start(&args);
    assert!(
        stderr.contains("+command|info") && stderr.contains("alice: NOPERM"),
        "{stderr}"
    );
}
