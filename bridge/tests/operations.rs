//! Running the bridge: TLS (`wss://`, `https://`) with a certificate made
//! here, Prometheus metrics, and Redis on a Unix socket.

mod common;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};

use common::*;
use rustls::pki_types::{CertificateDer, ServerName};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio_rustls::TlsConnector;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::http::HeaderValue;

const PING: &[u8] = b"*1\r\n$4\r\nPING\r\n";
const PONG: &[u8] = b"+PONG\r\n";

/// A TLS client that trusts `root` alone.
fn tls_client(root: &CertificateDer<'static>) -> TlsConnector {
    let mut roots = rustls::RootCertStore::empty();
    roots.add(root.clone()).expect("a valid certificate");
    let provider = Arc::new(rustls::crypto::ring::default_provider());
    let config = rustls::ClientConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_no_client_auth();
    TlsConnector::from(Arc::new(config))
}

async fn tls_connect(
    connector: &TlsConnector,
    addr: SocketAddr,
) -> std::io::Result<tokio_rustls::client::TlsStream<TcpStream>> {
    let tcp = TcpStream::connect(addr).await?;
    let name = ServerName::try_from("localhost").expect("a DNS name");
    within("TLS handshake", connector.connect(name, tcp)).await
}

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
    let error = try_connect(&bridge.url("/"), Some("http://evil.example"))
        .await
        .expect_err("refused");
    assert_eq!(refused_status(error), 403);
    let mut silent = TcpStream::connect(bridge.addr).await.expect("connect");
    let _ = within("dropped", silent.read_to_end(&mut Vec::new())).await;

    let expected = [
        "redis_ws_bridge_connections_opened_total 1\n",
        "redis_ws_bridge_connections_current 0\n",
        "redis_ws_bridge_commands_denied_total 1\n",
        "redis_ws_bridge_refused_total{reason=\"origin\"} 1\n",
        "redis_ws_bridge_refused_total{reason=\"handshake_timeout\"} 1\n",
        "redis_ws_bridge_closed_total{reason=\"browser\"} 1\n",
    ];
    let deadline = Instant::now() + TIMEOUT;
    let text = loop {
        let (status, text) = http_get(metrics_addr, "/metrics").await;
        assert_eq!(status, 200);
        if expected.iter().all(|line| text.contains(line)) {
            break text;
        }
        assert!(
            Instant::now() < deadline,
            "metrics lack some of {expected:?}:\n{text}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    for direction in ["from", "to"] {
        let name = format!("redis_ws_bridge_bytes_{direction}_browser_total ");
        let value: u64 = text
            .lines()
            .find_map(|line| line.strip_prefix(&name))
            .and_then(|value| value.parse().ok())
            .unwrap_or_else(|| panic!("no {name}in\n{text}"));
        assert!(value > 0, "{name}{value}");
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
