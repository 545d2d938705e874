//! Soak test of the bridge: clients pipeline numbered commands through it
//! while Redis is killed and restarted, connections are killed and the
//! bridge restarts; every reply is checked against its command. See
//! `tests/common/soak.rs` for what is counted.
//!
//! ```sh
//! cargo run -p redis-ws-bridge --example soak -- --faults 100
//! ```
//!
//! Needs `redis-server` on PATH. Exits non-zero if a reply was lost on an
//! open socket or misattributed.

#[allow(dead_code)] // The soak uses part of what the tests share.
#[path = "../tests/common/support.rs"]
mod support;

#[path = "../tests/common/soak.rs"]
mod soak;

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;

/// Runs the bridge soak and prints what it saw.
#[derive(Debug, Parser)]
struct Args {
    /// Faults to inject, rotating through Redis SIGKILL + restart, CLIENT
    /// KILL and bridge restart.
    #[arg(long, default_value_t = 100)]
    faults: usize,

    /// Concurrent WebSocket clients.
    #[arg(long, default_value_t = 4)]
    clients: usize,

    /// Pause before each fault, in milliseconds.
    #[arg(long, default_value_t = 150)]
    interval_ms: u64,
}

#[tokio::main]
async fn main() -> ExitCode {
    let args = Args::parse();
    let dir = std::env::temp_dir().join(format!("redis-ws-bridge-soak-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("create temp dir");
    let options = soak::Options {
        faults: args.faults,
        clients: args.clients,
        interval: Duration::from_millis(args.interval_ms),
    };
    let report = soak::run(options, &dir).await;
    let _ = std::fs::remove_dir_all(&dir);
    println!("{report}");
    if report.lost == 0 && report.misattributed == 0 {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    }
}
