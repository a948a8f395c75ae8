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
        self.spawn_with(&[])
    }

    fn spawn_with(&mut self, extra: &[&str]) -> Result<(), String> {
        let child = Command::new("redis-server")
            .args(["--bind", "127.0.0.1", "--port", &self.port.to_string(), "--save", "", "--appendonly", "yes"])
            .args(extra)
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

    /// Starts one that speaks TLS only, with a certificate for 127.0.0.1 from a CA made
    /// for it by `openssl`; answers the server and the CA's certificate (PEM).
    pub fn start_tls() -> Result<(RedisServer, Vec<u8>), String> {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        let dir = std::env::temp_dir().join(format!("dingscope-redis-tls-{port}"));
        std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
        let openssl = |args: &[&str]| -> Result<(), String> {
            let status = Command::new("openssl")
                .args(args)
                .current_dir(&dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .status()
                .map_err(|e| format!("openssl not available ({e})"))?;
            if status.success() {
                Ok(())
            } else {
                Err(format!("openssl {} failed", args.join(" ")))
            }
        };
        let ec = [
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
        ];
        openssl(
            &[
                &["req", "-x509"][..],
                &ec,
                &[
                    "-keyout",
                    "ca.key",
                    "-out",
                    "ca.crt",
                    "-subj",
                    "/CN=dingscope test CA",
                    "-days",
                    "2",
                    "-addext",
                    "basicConstraints=critical,CA:TRUE",
                    "-addext",
                    "keyUsage=critical,keyCertSign",
                ],
            ]
            .concat(),
        )?;
        openssl(
            &[
                &["req"][..],
                &ec,
                &[
                    "-keyout",
                    "server.key",
                    "-out",
                    "server.csr",
                    "-subj",
                    "/CN=127.0.0.1",
                ],
            ]
            .concat(),
        )?;
        std::fs::write(
            dir.join("ext.cnf"),
            "subjectAltName=IP:127.0.0.1\nextendedKeyUsage=serverAuth\n",
        )
        .map_err(|e| e.to_string())?;
        openssl(&[
            "x509",
            "-req",
            "-in",
            "server.csr",
            "-CA",
            "ca.crt",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "server.crt",
            "-days",
            "2",
            "-extfile",
            "ext.cnf",
        ])?;
        let ca = std::fs::read(dir.join("ca.crt")).map_err(|e| e.to_string())?;
        let child = Command::new("redis-server")
            .args([
                "--bind",
                "127.0.0.1",
                "--port",
                "0",
                "--tls-port",
                &port.to_string(),
                "--save",
                "",
            ])
            .args([
                "--tls-cert-file",
                "server.crt",
                "--tls-key-file",
                "server.key",
                "--tls-ca-cert-file",
                "ca.crt",
                "--tls-auth-clients",
                "no",
            ])
            .arg("--dir")
            .arg(&dir)
            .current_dir(&dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("redis-server not available ({e})"))?;
        let server = RedisServer {
            child: Some(child),
            port,
            dir,
        };
        let deadline = Instant::now() + Duration::from_secs(10);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            if Instant::now() > deadline {
                return Err(
                    "redis-server with TLS did not start within 10 s (built without TLS?)".into(),
                );
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Ok((server, ca))
    }

    /// `rediss://127.0.0.1:PORT/`, for a server from [`start_tls`](Self::start_tls).
    pub fn tls_url(&self) -> String {
        format!("rediss://127.0.0.1:{}/", self.port)
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

/// A Redis Cluster of three masters on 127.0.0.1, started for one test with
/// `redis-server --cluster-enabled yes` and `redis-cli --cluster create`, and stopped when
/// dropped. Each master keeps an append-only file fsynced at every write, so a restarted
/// master comes back with its keys.
#[derive(Debug)]
pub struct RedisCluster {
    nodes: Vec<RedisServer>,
}

impl RedisCluster {
    /// Starts one, or says why it cannot.
    pub fn start() -> Result<RedisCluster, String> {
        let mut nodes = Vec::new();
        for _ in 0..3 {
            let port = cluster_port()?;
            let dir = std::env::temp_dir().join(format!("dingscope-redis-cluster-{port}"));
            let _ = std::fs::remove_dir_all(&dir);
            std::fs::create_dir_all(&dir).map_err(|e| e.to_string())?;
            let mut node = RedisServer {
                child: None,
                port,
                dir,
            };
            node.spawn_with(&[
                "--cluster-enabled",
                "yes",
                "--cluster-config-file",
                "nodes.conf",
                "--cluster-node-timeout",
                "2000",
                "--appendfsync",
                "always",
            ])?;
            nodes.push(node);
        }
        let addrs: Vec<String> = nodes
            .iter()
            .map(|n| format!("127.0.0.1:{}", n.port))
            .collect();
        let created = Command::new("redis-cli")
            .args(["--cluster", "create"])
            .args(&addrs)
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .map_err(|e| format!("redis-cli not available ({e})"))?;
        if !created.success() {
            return Err(format!("redis-cli --cluster create failed: {created}"));
        }
        let cluster = RedisCluster { nodes };
        cluster.wait_ok()?;
        Ok(cluster)
    }

    /// `redis://127.0.0.1:PORT/` of every master.
    pub fn urls(&self) -> Vec<String> {
        self.nodes.iter().map(RedisServer::url).collect()
    }

    /// Kills master `i` and starts it again on the same port and data, then waits for the
    /// cluster to be whole again.
    pub fn restart(&mut self, i: usize) -> Result<(), String> {
        self.nodes[i].stop();
        self.nodes[i].spawn_with(&[
            "--cluster-enabled",
            "yes",
            "--cluster-config-file",
            "nodes.conf",
            "--cluster-node-timeout",
            "2000",
            "--appendfsync",
            "always",
        ])?;
        self.wait_ok()
    }

    /// Waits until every master says `cluster_state:ok`.
    fn wait_ok(&self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            let ok = self.nodes.iter().all(|n| {
                Command::new("redis-cli")
                    .args(["-p", &n.port.to_string(), "cluster", "info"])
                    .output()
                    .is_ok_and(|o| String::from_utf8_lossy(&o.stdout).contains("cluster_state:ok"))
            });
            if ok {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        Err("the Redis Cluster did not reach cluster_state:ok within 20 s".into())
    }
}

/// A free port whose cluster bus port (the port plus 10,000) is free too.
fn cluster_port() -> Result<u16, String> {
    for _ in 0..100 {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map_err(|e| format!("no free port: {e}"))?
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return Ok(port);
        }
    }
    Err("no free port pair for a cluster node".into())
}

/// The server (or cluster) that `$start` starts, or, if it cannot, prints why the calling
/// test is skipped and returns from it.
#[macro_export]
macro_rules! started_or_skip {
    ($start:expr, $what:literal) => {
        match $start {
            Ok(s) => s,
            Err(why) => {
                // Straight to stderr: libtest would capture `eprintln!` of a passing test.
                use ::std::io::Write as _;
                let _ = ::std::writeln!(
                    ::std::io::stderr(),
                    "skipping a {} test in {}: {why}",
                    $what,
                    module_path!()
                );
                return;
            }
        }
    };
}

/// Starts a Redis Cluster, or prints why the calling test is skipped and returns.
#[macro_export]
macro_rules! cluster_or_skip {
    () => {
        $crate::started_or_skip!($crate::RedisCluster::start(), "Redis Cluster")
    };
}

/// Starts a Redis server, or prints why the calling test is skipped and returns.
#[macro_export]
macro_rules! redis_or_skip {
    () => {
        $crate::started_or_skip!($crate::RedisServer::start(), "Redis")
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
