//! The files in `deploy/`: the systemd unit is hardened and passes
//! `systemd-analyze verify`; the Dockerfile builds an image that starts,
//! where a docker daemon runs (skipped with a message where none does, as
//! on the CI machine). The config example is checked by the binary's unit
//! tests, the static build by `deploy/build-static.sh --check`.

mod common;

use std::path::Path;
use std::process::Command;

use common::*;

fn deploy_file(name: &str) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("deploy")
        .join(name);
    std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{}: {error}", path.display()))
}

#[test]
fn the_systemd_unit_is_hardened_and_verifies() {
    let unit = deploy_file("redis-ws-bridge.service");
    for directive in [
        "DynamicUser=yes",
        "NoNewPrivileges=yes",
        "ProtectSystem=strict",
        "ProtectHome=yes",
        "PrivateTmp=yes",
        "PrivateDevices=yes",
        "ReadOnlyPaths=/etc/redis-ws-bridge",
        "CapabilityBoundingSet=CAP_NET_BIND_SERVICE",
        "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX",
        "SystemCallFilter=@system-service",
        "ExecReload=/bin/kill -HUP $MAINPID",
        "ExecStart=/usr/local/bin/redis-ws-bridge --config /etc/redis-ws-bridge/bridge.toml",
    ] {
        assert!(
            unit.lines().any(|line| line == directive),
            "the unit lacks {directive}"
        );
    }
    if Command::new("systemd-analyze")
        .arg("--version")
        .output()
        .is_err()
    {
        eprintln!("skipped systemd-analyze verify: systemd-analyze is not installed");
        return;
    }
    // The unit as installed, with this build's binary where it would be.
    let unit = unit.replace(
        "/usr/local/bin/redis-ws-bridge",
        env!("CARGO_BIN_EXE_redis-ws-bridge"),
    );
    let dir = TempDir::new(&[]);
    let path = dir.write("redis-ws-bridge.service", &unit);
    let output = Command::new("systemd-analyze")
        .args(["verify", &path])
        .output()
        .expect("run systemd-analyze");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.trim().is_empty(),
        "systemd-analyze verify: {stderr}"
    );
}

#[test]
fn the_container_image_builds_and_starts_where_docker_runs() {
    let docker_runs = Command::new("docker")
        .arg("info")
        .output()
        .is_ok_and(|output| output.status.success());
    if !docker_runs {
        eprintln!("skipped docker build: no docker daemon answers `docker info` here");
        return;
    }
    let binary = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../target/x86_64-unknown-linux-musl/release/redis-ws-bridge");
    if !binary.exists() {
        eprintln!(
            "skipped docker build: no static binary; run bridge/deploy/build-static.sh first"
        );
        return;
    }
    let context = TempDir::new(&[]);
    std::fs::copy(&binary, context.path.join("redis-ws-bridge")).expect("copy the binary");
    let dockerfile = Path::new(env!("CARGO_MANIFEST_DIR")).join("deploy/Dockerfile");
    let tag = format!("redis-ws-bridge-test:{}", std::process::id());
    let docker = |args: &[&str]| {
        let output = Command::new("docker")
            .args(args)
            .output()
            .expect("run docker");
        assert!(
            output.status.success(),
            "docker {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let context_dir = context.path.to_str().expect("UTF-8 path");
    docker(&[
        "build",
        "-q",
        "-f",
        dockerfile.to_str().expect("UTF-8 path"),
        "-t",
        &tag,
        context_dir,
    ]);
    let version = docker(&["run", "--rm", &tag, "--version"]);
    docker(&["rmi", "-f", &tag]);
    assert!(version.starts_with("redis-ws-bridge "), "{version}");
}
