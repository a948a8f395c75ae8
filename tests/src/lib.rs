//! Helpers shared by the tests in `tests/`.

use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A `redis-server` on 127.0.0.1, started for one test and stopped when dropped.
#[derive(Debug)]
pub struct RedisServer {
    child: Option<Child>,
    port: u16,
    dir: std::path::PathBuf,
}

impl RedisServer {
    /// Starts one on a free port, or says why it cannot (no `redis-server` installed).
    pub fn start() -> Result<RedisServer, String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("dingscope-redis-{port}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let mut server = RedisServer {
            child: None,
            port,
            dir,
        };
        server.spawn()?;
        Ok(server)
    }

    fn spawn(&mut self) -> Result<(), String> {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "yes"])
            .arg("--dir")
            .arg(&self.dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server not available ({e}); install it with `apt-get install redis-server`"))?;
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(10);
        while Instant::now() < deadline {
            if self.pong() {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err("redis-server did not start within 10 s".into())
    }

    /// Whether the server answers `PING` (a bare connect could meet itself on loopback).
    fn pong(&self) -> bool {
        use std::io::{Read, Write};
        let Ok(mut s) = std::net::TcpStream::connect(("127.0.0.1", self.port)) else {
            return false;
        };
        let _ = s.set_read_timeout(Some(Duration::from_millis(500)));
        let mut buf = [0u8; 7];
        s.write_all(b"PING\r\n").is_ok() && s.read_exact(&mut buf).is_ok() && &buf == b"+PONG\r\n"
    }

    /// `redis://127.0.0.1:PORT/`.
    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    /// Stops the server (its append-only file stays).
    pub fn stop(&mut self) {
        if let Some(mut c) = self.child.take() {
            let _ = c.kill();
            let _ = c.wait();
        }
    }

    /// Starts it again on the same port and data.
    pub fn restart(&mut self) -> Result<(), String> {
        self.stop();
        self.spawn()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.stop();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// Starts a Redis server, or prints why the calling test is skipped and returns `None`.
#[macro_export]
macro_rules! redis_or_skip {
    () => {
        match $crate::RedisServer::start() {
            Ok(s) => s,
            Err(why) => {
                // Straight to stderr: libtest would capture `eprintln!` of a passing test.
                use ::std::io::Write as _;
                let _ = ::std::writeln!(
                    ::std::io::stderr(),
                    "skipping a Redis test in {}: {why}",
                    module_path!()
                );
                return;
            }
        }
    };
}

/// This crate's scope manifest, for the agreement test.
pub mod scopes {
    dingscope::include_manifest!();
}

/// Scanned and compiled: the manifest and the registry agree on it.
#[dingscope::requires_scope("qyapi_hrm_read_user")]
pub fn scanned() -> Result<(), dingscope::Error> {
    Ok(())
}

macro_rules! generated {
    ($name:ident) => {
        /// Compiled, but invisible to a source scan.
        #[dingscope::requires_scope("qyapi_hrm_read_user")]
        pub fn $name() -> Result<(), dingscope::Error> {
            Ok(())
        }
    };
}

generated!(made_by_a_macro);
