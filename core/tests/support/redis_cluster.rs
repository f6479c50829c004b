//! A real Redis Cluster of three primaries (the Debian package's `redis-server`, cluster
//! mode) on 127.0.0.1, on free ports, with no persistence; each node holds a third of the
//! slots. Shut down when dropped.

use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct RedisCluster {
    pub(crate) ports: Vec<u16>,
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

fn node(port: u16) -> redis::RedisResult<redis::Connection> {
    redis::Client::open(format!("redis://127.0.0.1:{port}"))?
        .get_connection_with_timeout(Duration::from_secs(2))
}

impl RedisCluster {
    pub(crate) fn start() -> RedisCluster {
        let ports: Vec<u16> = (0..3).map(|_| free_port()).collect();
        let dir = std::env::temp_dir().join(format!(
            "cbreaker-cluster-{}-{}",
            std::process::id(),
            ports[0]
        ));
        std::fs::create_dir_all(&dir).expect("a temp dir");
        let mut cluster = RedisCluster {
            ports: ports.clone(),
            children: Vec::new(),
            dir,
        };
        for &port in &ports {
            let child = Command::new("redis-server")
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
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
                if let Ok(mut c) = node(port) {
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
        format!("redis+cluster://127.0.0.1:{}", self.ports[0])
    }

    /// A plain connection to node `i`.
    pub(crate) fn node(&self, i: usize) -> redis::Connection {
        node(self.ports[i]).expect("a cluster node")
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
