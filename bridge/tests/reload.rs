//! SIGHUP re-reads the certificates, the listener's (`--tls-cert`,
//! `--tls-key`) and those towards Redis (`--redis-ca`...), while WebSockets
//! stay open: new connections get the new files, open ones go on, and a
//! file that does not load keeps the previous one and says why. (Tokens
//! reload: `access.rs`.)

mod common;

use common::*;

/// A self-signed certificate for `localhost`, as PEM, and a client that
/// trusts it alone.
fn self_signed() -> (String, String, tokio_rustls::TlsConnector) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()])
        .expect("generate a certificate");
    let client = tls_client(certified.cert.der());
    (
        certified.cert.pem(),
        certified.signing_key.serialize_pem(),
        client,
    )
}

#[tokio::test]
async fn the_listener_certificate_reloads_under_an_open_session() {
    let (old_cert, old_key, trusts_old) = self_signed();
    let (new_cert, new_key, trusts_new) = self_signed();
    let dir = TempDir::new(&[]);
    let cert = dir.write("cert.pem", &old_cert);
    let key = dir.write("key.pem", &old_key);
    let redis = RedisServer::start();
    let bridge = Bridge::with_redis(&redis, &["--tls-cert", &cert, "--tls-key", &key]);
    let mut open = wss_connect(&trusts_old, bridge.addr).await.expect("wss");
    round_trip(&mut open, PING, PONG).await;

    dir.write("cert.pem", &new_cert);
    dir.write("key.pem", &new_key);
    bridge.signal("HUP");
    bridge.wait_for_log("certificates reloaded").await;
    round_trip(&mut open, PING, PONG).await;
    let mut renewed = wss_connect(&trusts_new, bridge.addr)
        .await
        .expect("the new certificate");
    round_trip(&mut renewed, PING, PONG).await;
    let stale = wss_connect(&trusts_old, bridge.addr).await;
    assert!(stale
        .expect_err("the old certificate is gone")
        .starts_with("TLS handshake"));

    // A key that does not match its certificate keeps the pair in use.
    dir.write("key.pem", &old_key);
    bridge.signal("HUP");
    let line = bridge.wait_for_log("certificates not reloaded").await;
    assert!(line.contains("listener"), "{line}");
    round_trip(&mut open, PING, PONG).await;
    round_trip(&mut renewed, PING, PONG).await;
    let mut again = wss_connect(&trusts_new, bridge.addr)
        .await
        .expect("still the new one");
    round_trip(&mut again, PING, PONG).await;
}

#[tokio::test]
async fn the_redis_ca_reloads_under_an_open_session() {
    let pki = Pki::new();
    let (_redis, tls_port) = pki.redis();
    let bridge_ca = pki.path("bridge-ca.pem");
    let use_ca = |name: &str| std::fs::copy(pki.path(name), &bridge_ca).expect("copy the CA");
    use_ca("ca.pem");
    let args = pki.bridge_args(tls_port, "bridge-ca.pem");
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let bridge = Bridge::start(&args);
    let mut open = connect(&bridge.url("/")).await;
    round_trip(&mut open, PING, PONG).await;

    // A CA that did not sign Redis's certificate: new relays cannot reach
    // Redis, the open one goes on.
    use_ca("other-ca.pem");
    bridge.signal("HUP");
    bridge.wait_for_logs("certificates reloaded", 1).await;
    round_trip(&mut open, PING, PONG).await;
    let mut refused = connect(&bridge.url("/")).await;
    assert_eq!(closed_with(&mut refused).await.0, 1011);
    round_trip(&mut open, PING, PONG).await;

    // A file that is not PEM keeps the CA in use.
    std::fs::write(&bridge_ca, "not a certificate").expect("write");
    bridge.signal("HUP");
    let line = bridge.wait_for_log("certificates not reloaded").await;
    assert!(line.contains("redis"), "{line}");

    // The right CA again: new relays get through (once the bridge has
    // read the command table again, which relays wait for).
    use_ca("ca.pem");
    bridge.signal("HUP");
    bridge.wait_for_logs("certificates reloaded", 2).await;
    let mut back = connect(&bridge.url("/")).await;
    round_trip(&mut back, PING, PONG).await;
    round_trip(&mut open, PING, PONG).await;
}
