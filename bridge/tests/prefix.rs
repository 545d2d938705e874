//! A token's prefix: its keys (found with the server's key specs) and its
//! channels and patterns must begin with it; and `acl-setup` prints the
//! ACL line that makes Redis enforce the same wall, checked here against a
//! real server command by command.

mod common;

use common::*;
use redis_ws_bridge::policy::{Flags, Policy, Rules, Table};
use resp::Frame;

const TOKEN: &str = "app-token-0123456789abcdef";

/// A protected Redis with user `app` (all rights unless `restricted`), and
/// a tokens file giving `app` the prefix `app:`.
async fn setup(dir: &TempDir) -> (RedisServer, String) {
    let redis =
        RedisServer::start_protected(&["--user", "app", "on", ">app-pw", "~*", "&*", "+@all"]);
    let file = dir.write(
        "tokens.toml",
        &format!("{}prefix = \"app:\"\n", token_entry(TOKEN, "app", "app-pw")),
    );
    (redis, file)
}

fn refusal(label: &str, what: &str) -> String {
    format!(
        "ERR unknown command '{label}: {what} outside this token's prefix, denied by \
         redis-ws-bridge', with args beginning with: "
    )
}

#[tokio::test]
async fn keys_and_channels_stay_within_the_prefix() {
    let dir = TempDir::new(&[]);
    let (redis, file) = setup(&dir).await;
    let bridge = Bridge::with_redis(&redis, &["--tokens", &file]);
    let mut ws = connect_with_token(&bridge.url("/"), TOKEN).await;

    let attempts: [(&[&str], Option<&str>); 14] = [
        (&["SET", "app:k", "v"], None),
        (&["SET", "other", "v"], Some("SET")),
        (&["MSET", "app:a", "1", "app:b", "2"], None),
        (&["MSET", "app:a", "1", "b", "2"], Some("MSET")),
        (&["MGET", "app:a", "app:b"], None),
        (&["RENAME", "app:a", "stolen"], Some("RENAME")),
        (
            &["XREAD", "COUNT", "1", "STREAMS", "app:s", "other", "0", "0"],
            Some("XREAD"),
        ),
        (
            &["ZUNIONSTORE", "app:z", "2", "app:a", "b"],
            Some("ZUNIONSTORE"),
        ),
        (&["ZUNIONSTORE", "app:z", "1", "app:zz"], None),
        (&["PUBLISH", "news", "x"], Some("PUBLISH")),
        (&["PUBLISH", "app:news", "x"], None),
        (&["PUBSUB", "CHANNELS"], Some("PUBSUB CHANNELS")),
        (&["PUBSUB", "CHANNELS", "*"], Some("PUBSUB CHANNELS")),
        (
            &["PUBSUB", "NUMSUB", "app:news", "news"],
            Some("PUBSUB NUMSUB"),
        ),
    ];
    let commands: Vec<_> = attempts.iter().map(|(args, _)| *args).collect();
    let got = replies_to(&mut ws, &commands).await;
    for (reply, (args, refused)) in got.iter().zip(attempts) {
        match refused {
            Some(label) => {
                let what = if label.starts_with("PUB") {
                    "channel"
                } else {
                    "key"
                };
                assert_eq!(error_text(reply), refusal(label, what), "{args:?}");
            }
            None => assert!(!reply.is_error(), "{args:?}: {reply:?}"),
        }
    }
    assert_eq!(
        redis.call(&["EXISTS", "other", "b", "stolen"]).await,
        Frame::Integer(0)
    );

    // Patterns must begin with the prefix itself: `*` would read every
    // other page's messages.
    for pattern in ["*", "app*", "a?p:*", "[a]pp:*", "other:*"] {
        send(&mut ws, &command(&["PSUBSCRIBE", pattern])).await;
        let reply = replies(&mut ws, 1).await.remove(0);
        assert_eq!(
            error_text(&reply),
            refusal("PSUBSCRIBE", "channel"),
            "{pattern}"
        );
    }
    send(&mut ws, &command(&["SUBSCRIBE", "app:news", "news"])).await;
    let reply = replies(&mut ws, 1).await.remove(0);
    assert_eq!(error_text(&reply), refusal("SUBSCRIBE", "channel"));
    send(&mut ws, &command(&["PSUBSCRIBE", "app:*"])).await;
    let reply = replies(&mut ws, 1).await.remove(0);
    assert_eq!(
        reply,
        Frame::Array(vec![bulk("psubscribe"), bulk("app:*"), Frame::Integer(1)])
    );
    let mut publisher = redis.connect().await;
    assert_eq!(
        publisher.call(&["PUBLISH", "other", "secret"]).await,
        Frame::Integer(0)
    );
    assert_eq!(
        publisher.call(&["PUBLISH", "app:news", "hi"]).await,
        Frame::Integer(1)
    );
    assert_eq!(
        replies(&mut ws, 1).await[0],
        Frame::Array(vec![
            bulk("pmessage"),
            bulk("app:*"),
            bulk("app:news"),
            bulk("hi")
        ])
    );
}

/// Splits an `ACL SETUSER` line as redis-cli would (no quotes in these).
fn words(line: &str) -> Vec<&str> {
    line.split(' ').collect()
}

/// Arguments that make a (sub)command of `arity` well-formed for DRYRUN,
/// every one a key and channel inside the prefix.
fn dry_run_args<'a>(path: &[&'a str], arity: i64) -> Vec<&'a str> {
    let count = arity.unsigned_abs() as usize;
    let mut args = path.to_vec();
    while args.len() < count.max(path.len()) {
        args.push("app:*");
    }
    args
}

#[tokio::test]
async fn acl_setup_gives_the_user_exactly_what_the_bridge_allows() {
    let dir = TempDir::new(&[]);
    let (redis, file) = setup(&dir).await;
    let (status, stdout, stderr) = run_to_exit(&["acl-setup", "--tokens", &file]);
    assert!(status.success(), "{stderr}");
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines.len(), 1, "{stdout}");
    assert!(
        !stdout.contains("app-pw"),
        "the password appears only hashed"
    );
    let line = words(lines[0]);
    assert_eq!(&line[..3], ["ACL", "SETUSER", "app"]);
    assert!(
        line.contains(&"~app:*") && line.contains(&"&app:*"),
        "{stdout}"
    );
    let mut admin = redis.connect().await;
    assert_eq!(admin.call(&line).await, simple("OK"));

    // Every command and subcommand of the server: what the ACL user may run
    // is what the bridge relays (AUTH, HELLO and RESET aside: Redis lets
    // every user run them, and the bridge judges them itself).
    let table = match admin.call(&["COMMAND", "INFO"]).await {
        reply @ Frame::Array(_) => Table::from_reply(&reply).expect("a command table"),
        other => panic!("COMMAND INFO gave {other:?}"),
    };
    let rules = Rules::new(&Flags::default(), true).expect("the web profile");
    let policy = Policy::new(&table, &rules, 1 << 20).expect("a policy");
    let (mut compared, mut relayed_count) = (0, 0);
    for info in &table.commands {
        let subs: Vec<_> = info.subcommands.iter().map(Some).collect();
        let targets = if subs.is_empty() { vec![None] } else { subs };
        for sub in targets {
            let target = sub.unwrap_or(info);
            if target.has_flag("no_auth") {
                continue;
            }
            let mut path = vec![info.name.as_str()];
            path.extend(sub.map(|sub| sub.name.as_str()));
            let relayed = policy
                .access(path[0].as_bytes(), sub.map(|sub| sub.name.as_bytes()))
                .expect("a command of the table")
                .is_ok();
            let mut dry_run = vec!["ACL", "DRYRUN", "app"];
            dry_run.extend(dry_run_args(&path, target.arity));
            let reply = admin.call(&dry_run).await;
            let permitted = reply == simple("OK");
            assert!(
                permitted == relayed,
                "{path:?}: the bridge {} it, ACL DRYRUN says {reply:?}",
                if relayed { "relays" } else { "refuses" }
            );
            compared += 1;
            relayed_count += usize::from(relayed);
        }
    }
    eprintln!("{compared} commands compared, {relayed_count} relayed");
    assert!(compared > 300 && relayed_count > 100 && compared - relayed_count > 100);

    // And as the user itself, straight to Redis (no bridge in between).
    let mut app = RedisConn::connect(redis.addr).await;
    assert_eq!(app.call(&["AUTH", "app", "app-pw"]).await, simple("OK"));
    assert_eq!(app.call(&["SET", "app:k", "v"]).await, simple("OK"));
    for refused in [
        &["SET", "other", "v"][..],
        &["FLUSHALL"],
        &["KEYS", "*"],
        &["CLIENT", "KILL", "TYPE", "normal"],
        &["EVAL", "return 1", "0"],
        &["PSUBSCRIBE", "*"],
        &["CONFIG", "GET", "maxmemory"],
    ] {
        let reply = app.call(refused).await;
        assert!(
            error_text(&reply).starts_with("NOPERM"),
            "{refused:?}: {reply:?}"
        );
    }
}
