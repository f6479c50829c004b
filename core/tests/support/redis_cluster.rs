//! A real Redis Cluster of three primaries (the Debian package's `redis-server`, cluster
//! mode) on 127.0.0.1, on free ports, with no persistence; each node holds a third of the
//! slots; plain TCP, or TLS only (clients and the cluster bus) with a self-signed
//! certificate. Shut down when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct RedisCluster {
    pub(crate) ports: Vec<u16>,
    tls: bool,
    children: Vec<Child>,
    dir: PathBuf,
}

fn free_port() -> u16 {
    // A cluster node also listens on port + 10000 (the bus): keep both free and valid.
    loop {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        if port < 55_000 && TcpListener::bind(("127.0.0.1", port + 10_000)).is_ok() {
            return port;
        }
    }
}

fn node(port: u16, tls: bool) -> redis::RedisResult<redis::Connection> {
    let url = if tls {
        format!("rediss://127.0.0.1:{port}/#insecure")
    } else {
        format!("redis://127.0.0.1:{port}")
    };
    redis::Client::open(url)?.get_connection_with_timeout(Duration::from_secs(2))
}

impl RedisCluster {
    pub(crate) fn start() -> RedisCluster {
        Self::start_with(false)
    }

    /// TLS only: a self-signed certificate (the `openssl` command), clients and bus over TLS.
    #[allow(dead_code)] // used by the `fleet-tls` build of the tests only
    pub(crate) fn start_tls() -> RedisCluster {
        Self::start_with(true)
    }

    fn start_with(tls: bool) -> RedisCluster {
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let dir = std::env::temp_dir().join(format!(
            "cbreaker-cluster-{}-{}",
            std::process::id(),
            ports[0]
        ));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let mut cluster = RedisCluster {
            ports: ports.clone(),
            tls,
            children: Vec::new(),
            dir,
        };
        if tls {
            super::redis_server::self_signed(&cluster.dir);
        }
        for &port in &ports {
            let mut command = Command::new("redis-server");
            if tls {
                let file = |f: &str| cluster.dir.join(f).to_string_lossy().into_owned();
                command
                    .args(["--port", "0", "--tls-port", &port.to_string()])
                    .args(["--tls-cluster", "yes", "--tls-auth-clients", "no"])
                    .args(["--tls-cert-file", &file("cert.pem")])
                    .args(["--tls-key-file", &file("key.pem")])
                    .args(["--tls-ca-cert-file", &file("cert.pem")]);
            } else {
                command.args(["--port", &port.to_string()]);
            }
            let child = command
                .args(["--bind", "127.0.0.1"])
                .args(["--cluster-enabled", "yes", "--cluster-node-timeout", "2000"])
                .args(["--cluster-config-file", &format!("nodes-{port}.conf")])
                .args(["--save", "", "--appendonly", "no"])
                .arg("--dir")
                .arg(&cluster.dir)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("redis-server on PATH (make setup installs it)");
            cluster.children.push(child);
        }
        let deadline = Instant::now() + Duration::from_secs(10);
        let mut cons: Vec<redis::Connection> = Vec::new();
        for &port in &ports {
            loop {
                if let Ok(mut c) = node(port, tls) {
                    if redis::cmd("PING").query::<String>(&mut c).is_ok() {
                        cons.push(c);
                        break;
                    }
                }
                assert!(
                    Instant::now() < deadline,
                    "redis-server did not answer on {port}"
                );
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        // A third of the 16,384 slots each, then one meeting: the gossip does the rest.
        for (i, con) in cons.iter_mut().enumerate() {
            let (from, to) = (i * 16_384 / 3, (i + 1) * 16_384 / 3 - 1);
            let _: () = redis::cmd("CLUSTER")
                .arg("ADDSLOTSRANGE")
                .arg(from)
                .arg(to)
                .query(con)
                .expect("CLUSTER ADDSLOTSRANGE");
        }
        for &port in &ports[1..] {
            let _: () = redis::cmd("CLUSTER")
                .arg("MEET")
                .arg("127.0.0.1")
                .arg(port)
                .query(&mut cons[0])
                .expect("CLUSTER MEET");
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        while !cons.iter_mut().all(|c| {
            redis::cmd("CLUSTER")
                .arg("INFO")
                .query::<String>(c)
                .is_ok_and(|info| {
                    info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3")
                })
        }) {
            assert!(
                Instant::now() < deadline,
                "the cluster did not form in 20 s"
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        cluster
    }

    /// The seed URL a member gets: the first node only.
    pub(crate) fn url(&self) -> String {
        if self.tls {
            format!("rediss+cluster://127.0.0.1:{}/#insecure", self.ports[0])
        } else {
            format!("redis+cluster://127.0.0.1:{}", self.ports[0])
        }
    }

    /// A plain connection to node `i`.
    #[allow(dead_code)] // not every test reads a node
    pub(crate) fn node(&self, i: usize) -> redis::Connection {
        node(self.ports[i], self.tls).expect("a cluster node")
    }
}

impl Drop for RedisCluster {
    fn drop(&mut self) {
        for c in &mut self.children {
            let _ = c.kill();
            let _ = c.wait();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
