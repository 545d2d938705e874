//! `--config bridge.toml`: the file's keys apply where no flag or
//! environment variable gives the value (flag > env > file > default), and
//! a key the bridge does not know, or a bad value, stops it at start with
//! the line to fix; `check-config` reads all a start reads without Redis.
//! `--version` names the commit, `--log-format json` writes JSON lines.
//! (The shipped example is parsed by the binary's own unit tests.)

mod common;

use common::*;

/// The port the bridge listens on, from its `listening on` line.
fn port_of(bridge: &Bridge) -> u16 {
    bridge.addr.port()
}

#[tokio::test]
async fn flags_beat_the_environment_which_beats_the_file() {
    let redis = RedisServer::start();
    let [file_port, env_port, flag_port] = [free_port(), free_port(), free_port()];
    let dir = TempDir::new(&[]);
    let config = dir.write(
        "bridge.toml",
        &format!(
            "# the file alone names Redis\nredis = \"redis://{}\"\nlisten = \"127.0.0.1:{file_port}\"\n",
            redis.addr
        ),
    );
    let from_env = format!("127.0.0.1:{env_port}");
    let from_flag = format!("127.0.0.1:{flag_port}");
    let env = [("REDIS_WS_BRIDGE_LISTEN", from_env.as_str())];

    let bridge = Bridge::start(&["--config", &config]);
    assert_eq!(port_of(&bridge), file_port, "the file's listen");
    // The file's `redis` is the one relayed to.
    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;
    drop((ws, bridge));

    let bridge = Bridge::start_with_env(&["--config", &config], &env);
    assert_eq!(port_of(&bridge), env_port, "the environment beats the file");
    drop(bridge);

    let flags = ["--config", &config, "--listen", &from_flag];
    let bridge = Bridge::start_with_env(&flags, &env);
    assert_eq!(port_of(&bridge), flag_port, "a flag beats both");
    drop(bridge);

    // The config file itself may come from the environment.
    let bridge = Bridge::start_with_env(&[], &[("REDIS_WS_BRIDGE_CONFIG", &config)]);
    assert_eq!(port_of(&bridge), file_port, "REDIS_WS_BRIDGE_CONFIG");
}

#[test]
fn unknown_keys_and_bad_values_are_refused_with_their_line() {
    let dir = TempDir::new(&[]);
    let cases = [
        (
            "listen = \"127.0.0.1:0\"\n\n# a typo\nmax-conections = 10\n",
            "line 4: unknown key \"max-conections\"",
        ),
        (
            "insecure-open = \"yes\"\n",
            "line 1: insecure-open takes true or false",
        ),
        ("\nidle-timeout = \"5 minutes\"\n", "line 2: "),
        (
            "listen = \"127.0.0.1:0\"\nlisten = \"127.0.0.1:1\"\n",
            "line 2",
        ),
        (
            "config = \"other.toml\"\n",
            "line 1: unknown key \"config\"",
        ),
    ];
    for (text, expected) in cases {
        let config = dir.write("bridge.toml", text);
        let stderr = refused_at_start(&["--config", &config]);
        assert!(
            stderr.contains(&format!("--config {config}: {expected}")),
            "{text:?}: {stderr}"
        );
    }
    let missing = dir.path.join("missing.toml");
    let missing = missing.to_str().expect("UTF-8 path");
    let stderr = refused_at_start(&["--config", missing]);
    assert!(
        stderr.contains(&format!("--config {missing}: ")),
        "{stderr}"
    );
}

#[test]
fn check_config_reads_the_files_a_start_reads_without_redis() {
    let dir = TempDir::new(&[]);
    let tokens = dir.write("tokens.toml", &token_entry("a token", "webapp", "pw"));
    let good = dir.write(
        "good.toml",
        &format!("redis = \"redis://127.0.0.1:1\"\ntokens = {tokens:?}\n"),
    );
    let (status, stdout, stderr) = run_to_exit(&["--config", &good, "check-config"]);
    assert!(status.success(), "{stderr}");
    assert_eq!(stdout, "configuration ok\n");

    let missing = dir.write("missing.toml", "tokens = \"/nonexistent/tokens.toml\"\n");
    let (status, _, stderr) = run_to_exit(&["--config", &missing, "check-config"]);
    assert!(!status.success());
    assert!(stderr.contains("/nonexistent/tokens.toml"), "{stderr}");
    let exposed = dir.write("exposed.toml", "listen = \"0.0.0.0:7379\"\n");
    let (status, _, stderr) = run_to_exit(&["--config", &exposed, "check-config"]);
    assert!(!status.success());
    assert!(
        stderr.contains("refusing to serve others without --tokens"),
        "{stderr}"
    );
}

#[test]
fn version_names_the_commit() {
    let (status, stdout, _) = run_to_exit(&["--version"]);
    assert!(status.success());
    let expected = format!("redis-ws-bridge {} (commit ", env!("CARGO_PKG_VERSION"));
    assert!(
        stdout.starts_with(&expected) && stdout.ends_with(")\n"),
        "{stdout}"
    );
}

#[tokio::test]
async fn json_logs_are_one_object_a_line() {
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--log-format", "json"]);
    let line = bridge.wait_for_log("\"listening\"").await;
    let event: serde_json::Value = serde_json::from_str(&line).expect("a JSON line");
    assert_eq!(event["level"], "INFO", "{line}");
    assert_eq!(event["message"], "listening", "{line}");
    assert_eq!(event["redis"], format!("redis://{}", redis.addr), "{line}");
}

#[test]
fn cluster_seeds_that_do_not_fit_are_refused_at_start() {
    let cases: &[(&[&str], &str)] = &[
        (
            &["--redis", "127.0.0.1:1", "--redis-cluster", "127.0.0.1:2"],
            "--redis and --redis-cluster: give one of them",
        ),
        (
            &["--redis-cluster", "127.0.0.1:1,unix:/run/redis.sock"],
            "--redis-cluster: cluster nodes are host:port, not a Unix socket",
        ),
        (
            &["--redis-cluster", "redis://127.0.0.1:1/2"],
            "--redis-cluster: a cluster has only database 0",
        ),
        (
            &["--redis-cluster", "ftp://127.0.0.1:1"],
            "--redis-cluster: unknown scheme ftp://",
        ),
    ];
    for (args, expected) in cases {
        let stderr = refused_at_start(args);
        assert!(stderr.contains(expected), "{args:?}: {stderr}");
    }
}

#[tokio::test]
async fn a_seed_that_is_not_a_cluster_node_is_refused_at_start() {
    let redis = RedisServer::start();
    let seed = redis.addr.to_string();
    let stderr = refused_at_start(&["--redis-cluster", &seed]);
    assert!(
        stderr.contains("cluster support disabled") && stderr.contains("+cluster|shards"),
        "{stderr}"
    );
}
