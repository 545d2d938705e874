//! Running the bridge: TLS (`wss://`, `https://`) with a certificate made
//! here, Prometheus metrics, and Redis on a Unix socket.

mod common;

use std::net::SocketAddr;
use std::time::{Duration, Instant};

use common::*;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

#[tokio::test]
async fn wss_and_https_with_a_trusted_certificate() {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("generate a certificate");
    let dir = TempDir::new(&[]);
    let cert = dir.write("cert.pem", &certified.cert.pem());
    let key = dir.write("key.pem", &certified.signing_key.serialize_pem());
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--tls-cert", &cert, "--tls-key", &key]);
    let connector = tls_client(certified.cert.der());
    let url = format!("wss://localhost:{}/", bridge.addr.port());

    // A page the bridge served over https: its own origin, with that scheme only.
    let wss = |origin: String| {
        let connector = connector.clone();
        let mut request = url.as_str().into_client_request().expect("a request");
        let origin = HeaderValue::from_str(&origin).expect("an origin");
        request.headers_mut().insert("Origin", origin);
        async move {
            let stream = tls_connect(&connector, bridge.addr)
                .await
                .expect("TLS handshake");
            within(
                "wss handshake",
                tokio_tungstenite::client_async(request, stream),
            )
            .await
        }
    };
    let port = bridge.addr.port();
    let error = wss(format!("http://localhost:{port}"))
        .await
        .expect_err("http origin");
    assert_eq!(refused_status(error), 403);
    let (mut ws, _) = wss(format!("https://localhost:{port}"))
        .await
        .expect("wss handshake");
    round_trip(&mut ws, PING, PONG).await;
    round_trip(&mut ws, &command(&["SET", "over", "tls"]), b"+OK\r\n").await;
    within("close", ws.close(None)).await.expect("close");

    let mut stream = tls_connect(&connector, bridge.addr)
        .await
        .expect("TLS handshake");
    let request = format!(
        "GET /readyz HTTP/1.1\r\nHost: localhost:{}\r\nConnection: close\r\n\r\n",
        bridge.addr.port()
    );
    stream.write_all(request.as_bytes()).await.expect("send");
    let mut response = Vec::new();
    // Read until the server closes; rustls reports a missing close_notify
    // as an error, which does not matter here.
    let _ = within("https response", stream.read_to_end(&mut response)).await;
    let (status, body) = parse_response(&String::from_utf8_lossy(&response));
    assert_eq!((status, body.as_str()), (200, "ok"));

    // A client that does not trust the certificate gets no further.
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).expect("cert");
    assert!(tls_connect(&tls_client(other.cert.der()), bridge.addr)
        .await
        .is_err());
    // Nor does plain HTTP.
    assert!(try_connect(&bridge.url("/"), None).await.is_err());
}

#[tokio::test]
async fn metrics_count_what_happens() {
    let redis = RedisServer::start();
    let metrics_addr = SocketAddr::from(([127, 0, 0, 1], free_port()));
    let metrics_flag = metrics_addr.to_string();
    let bridge = Bridge::with_redis(
        &redis,
        &["--metrics", &metrics_flag, "--handshake-timeout", "300ms"],
    );

    let mut ws = connect(&bridge.url("/")).await;
    send(
        &mut ws,
        &[command(&["PING"]), command(&["FLUSHALL"])].concat(),
    )
    .await;
    replies(&mut ws, 2).await;
    within("close", ws.close(None)).await.expect("close");
    // QUIT makes Redis close: an error end (redis_closed).
    let mut quitter = connect(&bridge.url("/")).await;
    round_trip(&mut quitter, &command(&["QUIT"]), b"+OK\r\n").await;
    let error = try_connect(&bridge.url("/"), Some("http://evil.example"))
        .await
        .expect_err("refused");
    assert_eq!(refused_status(error), 403);
    let mut silent = TcpStream::connect(bridge.addr).await.expect("connect");
    let _ = within("dropped", silent.read_to_end(&mut Vec::new())).await;

    // Each family with a check of its samples: what happened above, or
    // that it is there at all.
    let at_least = |least: f64| move |value: f64| value >= least;
    let expected: &[Expected] = &[
        ("redis_ws_bridge_connections_opened_total", &[], &|v| {
            v == 2.0
        }),
        ("redis_ws_bridge_connections_current", &[], &|v| v == 0.0),
        ("redis_ws_bridge_handshakes_current", &[], &|v| v == 0.0),
        (
            "redis_ws_bridge_bytes_from_browser_total",
            &[],
            &at_least(1.0),
        ),
        (
            "redis_ws_bridge_bytes_to_browser_total",
            &[],
            &at_least(1.0),
        ),
        ("redis_ws_bridge_messages_from_browser_total", &[], &|v| {
            v == 2.0
        }),
        (
            "redis_ws_bridge_messages_to_browser_total",
            &[],
            &at_least(1.0),
        ),
        (
            "redis_ws_bridge_commands_denied_total",
            &[("command", "flushall")],
            &|v| v == 1.0,
        ),
        (
            "redis_ws_bridge_refused_total",
            &[("reason", "origin")],
            &|v| v == 1.0,
        ),
        (
            "redis_ws_bridge_refused_total",
            &[("reason", "handshake_timeout")],
            &|v| v == 1.0,
        ),
        (
            "redis_ws_bridge_closed_total",
            &[("reason", "browser")],
            &|v| v == 1.0,
        ),
        (
            "redis_ws_bridge_errors_total",
            &[("kind", "redis_closed")],
            &|v| v == 1.0,
        ),
        ("redis_ws_bridge_reply_latency_seconds", &[], &|count| {
            count == 2.0
        }),
        ("redis_ws_bridge_redis_connect_seconds", &[], &|count| {
            count == 2.0
        }),
        (
            "redis_ws_bridge_build_info",
            &[("version", env!("CARGO_PKG_VERSION"))],
            &|v| v == 1.0,
        ),
        ("process_cpu_seconds_total", &[], &at_least(0.0)),
        ("process_resident_memory_bytes", &[], &at_least(1e6)),
        ("process_open_fds", &[], &at_least(3.0)),
    ];
    let deadline = Instant::now() + TIMEOUT;
    let scrape = loop {
        let (status, text) = http_get(metrics_addr, "/metrics").await;
        assert_eq!(status, 200);
        let lines = text.lines().map(|line| Ok(line.to_owned()));
        let scrape = prometheus_parse::Scrape::parse(lines).expect("Prometheus text");
        let missing: Vec<_> = expected
            .iter()
            .filter(|(name, labels, check)| {
                !scrape.samples.iter().any(|sample| {
                    sample.metric == *name
                        && labels
                            .iter()
                            .all(|(key, value)| sample.labels.get(key) == Some(value))
                        && check(value_of(&sample.value))
                })
            })
            .map(|(name, labels, _)| format!("{name}{labels:?}"))
            .collect();
        if missing.is_empty() {
            break scrape;
        }
        assert!(
            Instant::now() < deadline,
            "metrics lack {missing:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    // And nothing goes unchecked: every family served is one of the above.
    for family in scrape.docs.keys() {
        let checked = expected
            .iter()
            .any(|(name, _, _)| name.starts_with(family.as_str()));
        assert!(checked, "family {family} has no check here");
    }
}

/// A metric's name, labels a sample of it has, and a check of its value.
type Expected<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a dyn Fn(f64) -> bool);

/// A sample's value; a histogram's is its count (the `+Inf` bucket).
fn value_of(value: &prometheus_parse::Value) -> f64 {
    use prometheus_parse::Value;
    match value {
        Value::Counter(v) | Value::Gauge(v) | Value::Untyped(v) => *v,
        Value::Histogram(buckets) => buckets
            .iter()
            .find(|bucket| bucket.less_than.is_infinite())
            .map_or(0.0, |bucket| bucket.count),
        Value::Summary(_) => f64::NAN,
    }
}

#[tokio::test]
async fn redis_on_a_unix_socket() {
    let dir = TempDir::new(&[]);
    let socket = dir.path.join("redis.sock");
    let socket = socket.to_str().expect("UTF-8 path");
    let redis = RedisServer::start_with(&["--unixsocket", socket, "--unixsocketperm", "700"]);
    let target = format!("unix:{socket}");
    let bridge = Bridge::start(&["--redis", &target]);

    let mut ws = connect(&bridge.url("/")).await;
    round_trip(&mut ws, PING, PONG).await;
    assert_eq!(http_get(bridge.addr, "/readyz").await, (200, "ok".into()));
    drop(redis);
}
