//! A short soak, so that CI keeps the soak working: ten faults while four
//! clients pipeline through the bridge; no reply may be lost on an open
//! socket or attributed to the wrong command. The long run is the `soak`
//! example (`cargo run -p redis-ws-bridge --example soak -- --faults 100`).

#[allow(dead_code)] // The soak uses part of what the tests share.
#[path = "common/support.rs"]
mod support;

#[path = "common/soak.rs"]
mod soak;

use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn soak_with_ten_faults() {
    let dir =
        std::env::temp_dir().join(format!("redis-ws-bridge-soak-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let options = soak::Options {
        faults: 10,
        clients: 4,
        interval: Duration::from_millis(150),
    };
    let report = soak::run(options, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    eprintln!("{report}");

    assert_eq!(report.faults.iter().sum::<usize>(), 10);
    assert_eq!((report.lost, report.misattributed), (0, 0), "{report}");
    assert!(report.replies_ok > 1000, "{report}");
    assert!(report.connections > 4, "faults force reconnects: {report}");
}
