//! Starts the real `linegate` binary on 127.0.0.1 for integration tests.
#![allow(dead_code)]

use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const ADMIN: &str = "apiv3_test-admin-token";

pub use tempfile::TempDir;

/// A temporary directory named after the test, removed on drop.
pub fn temp_dir(name: &str) -> TempDir {
    tempfile::Builder::new()
        .prefix(&format!("linegate-it-{name}-"))
        .tempdir()
        .unwrap()
}

/// A running server.
pub struct Server {
    pub child: Child,
    pub port: u16,
    pub data_dir: PathBuf,
    pub base: String,
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

impl Server {
    /// Starts `linegate serve` on a free port with the admin token [`ADMIN`].
    pub fn start(data_dir: &Path, extra: &[&str]) -> Server {
        Server::start_on(data_dir, free_port(), extra)
    }

    pub fn start_on(data_dir: &Path, port: u16, extra: &[&str]) -> Server {
        let token_file = data_dir.join("test-admin-token");
        if !token_file.exists() {
            std::fs::create_dir_all(data_dir).unwrap();
            std::fs::write(&token_file, format!("{ADMIN}\n")).unwrap();
        }
        let mut command = Command::new(env!("CARGO_BIN_EXE_linegate"));
        command
            .arg("serve")
            .arg("--http-bind")
            .arg(format!("127.0.0.1:{port}"))
            .arg("--data-dir")
            .arg(data_dir)
            .arg("--admin-token-file")
            .arg(&token_file)
            .args(extra)
            // TEST_LOG_FILTER=info shows the servers' logs (persists, compactions).
            .env(
                "LOG_FILTER",
                std::env::var("TEST_LOG_FILTER").unwrap_or("warn".into()),
            )
            .stdout(Stdio::null())
            .stderr(Stdio::inherit());
        let child = command.spawn().expect("start linegate");
        let server = Server {
            child,
            port,
            data_dir: data_dir.to_owned(),
            base: format!("http://127.0.0.1:{port}"),
        };
        server.wait_ready();
        server
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while Instant::now() < deadline {
            if std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok() {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        panic!("linegate did not start listening on {}", self.port);
    }

    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.base)
    }

    /// SIGTERM, then wait for a clean exit.
    pub fn stop(mut self) {
        let pid = self.child.id().to_string();
        Command::new("kill").args(["-TERM", &pid]).status().unwrap();
        let status = self.child.wait().unwrap();
        assert!(status.success(), "linegate exited with {status}");
    }

    /// SIGKILL: no chance to flush anything.
    pub fn kill(mut self) {
        self.child.kill().unwrap();
        self.child.wait().unwrap();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Every `.parquet` file under `dir`.
pub fn parquet_files(dir: &Path) -> Vec<PathBuf> {
    let mut found = Vec::new();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return found;
    };
    for entry in entries.flatten() {
        let path = entry.path();
        if path.is_dir() {
            found.extend(parquet_files(&path));
        } else if path.extension().is_some_and(|e| e == "parquet") {
            found.push(path);
        }
    }
    found.sort();
    found
}
