//! Starting, observing and disturbing a local network.

use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use satellite::{SatelliteConfig, SatelliteHandle, SatelliteListeners};
use satstore_common::NodeUrl;
use satstore_common::config::ByteSize;
use satstore_common::erasure::RedundancyScheme;
use satstore_common::macaroon::ApiKey;
use storagenode::{StorageNodeConfig, StorageNodeHandle, StorageNodeListeners};
use thiserror::Error;
use tokio::net::TcpListener;
use uplink::Access;

use gateway::{GatewayConfig, GatewayHandle, GatewayListeners};

use crate::state::{NodePorts, S3Credentials, State};

/// Why a localnet could not start or act.
#[derive(Debug, Error)]
pub enum LocalnetError {
    #[error("{0}: {1}")]
    /// A file or socket operation failed (what was being done, the cause).
    Io(String, #[source] std::io::Error),
    #[error("localnet state: {0}")]
    /// The saved network state is unreadable or inconsistent.
    State(String),
    #[error("satellite: {0}")]
    /// The satellite failed to start or act.
    Satellite(#[from] satellite::SatelliteError),
    #[error("storage node: {0}")]
    /// A storage node failed to start or act.
    StorageNode(#[from] storagenode::StorageNodeError),
    #[error("uplink: {0}")]
    /// Creating the localnet access failed.
    Uplink(#[from] uplink::UplinkError),
    #[error("no storage node number {0}")]
    /// A node index beyond the network's nodes.
    NoSuchNode(usize),
    #[error("timed out: {0}")]
    /// Waiting for the network took too long.
    Timeout(String),
    #[error("gateway: {0}")]
    /// The S3 gateway failed to start or act.
    Gateway(#[from] gateway::GatewayError),
}

/// How to build a localnet.
#[derive(Clone, Debug)]
pub struct LocalnetConfig {
    /// Where all data lives; reused by a second run.
    pub dir: PathBuf,
    /// Number of storage nodes.
    pub nodes: usize,
    /// Satellite database URL; `None` = SQLite under `dir/satellite/`.
    pub database_url: Option<String>,
    /// Redundancy of new segments.
    pub redundancy: RedundancyScheme,
    /// Largest segment; `None` = the satellite default (64 MiB).
    pub max_segment_size: Option<u64>,
    /// Space each node offers.
    pub allocated_space: u64,
    /// How often nodes check in.
    pub check_in_interval: Duration,
    /// Nodes seen within this window count as online.
    pub online_window: Duration,
    /// Encryption passphrase of the localnet access; the access is derived
    /// from it and the project salt, so every run yields the same keys.
    pub passphrase: String,
    /// Plaintext gRPC between every peer instead of identity-bound TLS.
    pub insecure: bool,
}

impl LocalnetConfig {
    /// The defaults: 10 nodes, redundancy 4/6/8/10, SQLite.
    pub fn new(dir: impl Into<PathBuf>) -> Self {
        LocalnetConfig {
            dir: dir.into(),
            nodes: 10,
            database_url: None,
            redundancy: RedundancyScheme::default(),
            max_segment_size: None,
            allocated_space: 20 << 30,
            check_in_interval: Duration::from_secs(5),
            online_window: Duration::from_secs(60),
            passphrase: "localnet".to_string(),
            insecure: false,
        }
    }
}

/// A running local network.
pub struct Localnet {
    config: LocalnetConfig,
    state: State,
    satellite: Option<SatelliteHandle>,
    nodes: Vec<Option<StorageNodeHandle>>,
    access: Access,
    gateway: Option<GatewayHandle>,
    s3_users: Vec<S3Credentials>,
}

/// Emails of the two S3 users localnet registers.
const S3_EMAILS: [&str; 2] = ["localnet@satstore.local", "second@satstore.local"];

/// Binds 127.0.0.1:`port` (0 = any). A port remembered from an earlier run
/// may briefly be taken, e.g. as the local end of some outgoing connection:
/// retry for a few seconds, then, where `movable`, take any free port (a
/// node re-announces its address at check-in; S3 clients read the endpoint
/// from DIR/env).
async fn bind_port(port: u16, movable: bool) -> Result<TcpListener, LocalnetError> {
    let mut attempt = 0;
    loop {
        match TcpListener::bind(("127.0.0.1", port)).await {
            Ok(l) => return Ok(l),
            Err(e) if port != 0 && e.kind() == std::io::ErrorKind::AddrInUse && attempt < 30 => {
                attempt += 1;
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            Err(e) if port != 0 && e.kind() == std::io::ErrorKind::AddrInUse && movable => {
                tracing::warn!(port, "remembered port is taken; using another");
                return Box::pin(bind_port(0, false)).await;
            }
            Err(e) => return Err(LocalnetError::Io(format!("bind 127.0.0.1:{port}"), e)),
        }
    }
}

async fn bind(port: u16) -> Result<TcpListener, LocalnetError> {
    bind_port(port, true).await
}

/// How the localnet's own clients (its access, the gateway) dial.
fn uplink_config(config: &LocalnetConfig) -> uplink::UplinkConfig {
    uplink::UplinkConfig {
        insecure: config.insecure,
        ..uplink::UplinkConfig::default()
    }
}

fn node_dir(dir: &Path, index: usize) -> PathBuf {
    dir.join("nodes").join(format!("{:02}", index + 1))
}

impl Localnet {
    /// Starts (or resumes) the network in `config.dir` and returns when the
    /// satellite sees every node online.
    pub async fn start(config: LocalnetConfig) -> Result<Localnet, LocalnetError> {
        std::fs::create_dir_all(&config.dir)
            .map_err(|e| LocalnetError::Io(format!("create {}", config.dir.display()), e))?;
        let previous = State::load(&config.dir)?;
        let mut state = previous.clone().unwrap_or_default();

        let satellite = Self::start_satellite(&config, &mut state).await?;
        let api_key = match previous.as_ref().map(|s| s.api_key.clone()) {
            Some(k) if !k.is_empty() => ApiKey::parse(&k)
                .map_err(|e| LocalnetError::State(format!("stored API key: {e}")))?,
            _ => {
                let (_, key) =
                    satellite::admin::create_project(satellite.store(), "localnet").await?;
                key
            }
        };
        state.api_key = api_key.serialize();
        let access = uplink::config_request_access_with_passphrase(
            &uplink_config(&config),
            &satellite.url().to_string(),
            &state.api_key,
            &config.passphrase,
        )
        .await?;

        let mut net = Localnet {
            config,
            state,
            satellite: Some(satellite),
            nodes: Vec::new(),
            access,
            gateway: None,
            s3_users: Vec::new(),
        };
        for i in 0..net.config.nodes {
            net.nodes.push(None);
            net.start_node(i).await?;
        }
        net.start_gateway().await?;
        net.state.save(&net.config.dir)?;
        net.wait_online(net.config.nodes, Duration::from_secs(60))
            .await?;
        Ok(net)
    }

    /// Starts the S3 gateway (SQLite under `dir/gateway`, trusting only
    /// this satellite, HTTP registration off) and registers two users once,
    /// as the operator (emails confirmed): the localnet project, and a
    /// second project for cross-user grant tests.
    async fn start_gateway(&mut self) -> Result<(), LocalnetError> {
        let s3 = bind(self.state.gateway_port).await?;
        let metrics = bind(self.state.gateway_metrics_port).await?;
        self.state.gateway_port = local_port(&s3)?;
        self.state.gateway_metrics_port = local_port(&metrics)?;
        let config = GatewayConfig {
            data_dir: self.config.dir.join("gateway"),
            trusted_satellites: vec![self.satellite().url().to_string()],
            ..GatewayConfig::default()
        };
        let handle = gateway::start(
            config,
            GatewayListeners { s3, metrics },
            uplink_config(&self.config),
        )
        .await?;
        if self.state.s3_users.len() < 2 {
            if self.state.second_api_key.is_empty() {
                let (_, key) =
                    satellite::admin::create_project(self.satellite().store(), "localnet-2")
                        .await?;
                self.state.second_api_key = key.serialize();
            }
            let second = uplink::config_request_access_with_passphrase(
                &uplink_config(&self.config),
                &self.satellite().url().to_string(),
                &self.state.second_api_key,
                &format!("{}-2", self.config.passphrase),
            )
            .await?;
            let mut users = Vec::new();
            for (access, email) in [(&self.access, S3_EMAILS[0]), (&second, S3_EMAILS[1])] {
                let grant = access.serialize();
                let c = handle
                    .gateway()
                    .register(&gateway::Registration {
                        grant: &grant,
                        email: Some(email),
                        display_name: None,
                        email_confirmed: true,
                    })
                    .await?;
                users.push(S3Credentials {
                    endpoint: String::new(),
                    access_key: c.access_key,
                    secret_key: c.secret_key,
                    canonical_id: c.canonical_id,
                    email: email.to_string(),
                });
            }
            self.state.s3_users = users;
        }
        self.s3_users = self
            .state
            .s3_users
            .iter()
            .map(|u| S3Credentials {
                endpoint: handle.endpoint(),
                ..u.clone()
            })
            .collect();
        self.gateway = Some(handle);
        Ok(())
    }

    /// The S3 gateway.
    #[allow(
        clippy::expect_used,
        reason = "documented panic: only while the network is being restarted"
    )]
    pub fn gateway(&self) -> &GatewayHandle {
        self.gateway
            .as_ref()
            .expect("the gateway runs from start to shutdown")
    }

    /// S3 credentials of the localnet project at the gateway.
    pub fn s3(&self) -> &S3Credentials {
        &self.s3_users[0]
    }

    /// S3 credentials of a second user (another project).
    pub fn s3_second(&self) -> &S3Credentials {
        &self.s3_users[1]
    }

    async fn start_satellite(
        config: &LocalnetConfig,
        state: &mut State,
    ) -> Result<SatelliteHandle, LocalnetError> {
        // The satellite's address is inside every access grant: never move it.
        let grpc = bind_port(state.satellite_port, false).await?;
        let metrics = bind(state.satellite_metrics_port).await?;
        state.satellite_port = local_port(&grpc)?;
        state.satellite_metrics_port = local_port(&metrics)?;
        let mut sc = SatelliteConfig {
            data_dir: config.dir.join("satellite"),
            database_url: config.database_url.clone(),
            redundancy: config.redundancy,
            online_window: config.online_window,
            insecure: config.insecure,
            ..SatelliteConfig::default()
        };
        if let Some(size) = config.max_segment_size {
            sc.max_segment_size = ByteSize(size);
        }
        Ok(satellite::start(sc, SatelliteListeners { grpc, metrics }).await?)
    }

    /// The access grant for the localnet project.
    pub fn access(&self) -> &Access {
        &self.access
    }

    /// The data dir.
    pub fn dir(&self) -> &Path {
        &self.config.dir
    }

    /// The satellite; panics only if called while it is being restarted.
    #[allow(
        clippy::expect_used,
        reason = "documented panic: only while the satellite is being restarted"
    )]
    pub fn satellite(&self) -> &SatelliteHandle {
        self.satellite
            .as_ref()
            .expect("satellite is running outside restart_satellite")
    }

    /// The satellite's address.
    pub fn satellite_url(&self) -> NodeUrl {
        self.satellite().url()
    }

    /// Number of node slots (running or stopped).
    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    /// Node `index` (0-based) if running.
    pub fn node(&self, index: usize) -> Option<&StorageNodeHandle> {
        self.nodes.get(index).and_then(|n| n.as_ref())
    }

    /// Running nodes with their index.
    pub fn running_nodes(&self) -> impl Iterator<Item = (usize, &StorageNodeHandle)> {
        self.nodes
            .iter()
            .enumerate()
            .filter_map(|(i, n)| n.as_ref().map(|n| (i, n)))
    }

    /// The data dir of node `index`.
    pub fn node_dir(&self, index: usize) -> PathBuf {
        node_dir(&self.config.dir, index)
    }

    /// Starts node `index` (again) on its recorded ports.
    pub async fn start_node(&mut self, index: usize) -> Result<(), LocalnetError> {
        if index >= self.nodes.len() {
            return Err(LocalnetError::NoSuchNode(index));
        }
        if self.nodes[index].is_some() {
            return Ok(());
        }
        let ports = self.state.nodes.get(index).copied().unwrap_or_default();
        let grpc = bind(ports.grpc).await?;
        let metrics = bind(ports.metrics).await?;
        let ports = NodePorts {
            grpc: local_port(&grpc)?,
            metrics: local_port(&metrics)?,
        };
        if self.state.nodes.len() <= index {
            self.state.nodes.resize(index + 1, NodePorts::default());
        }
        self.state.nodes[index] = ports;
        let config = StorageNodeConfig {
            data_dir: node_dir(&self.config.dir, index),
            satellites: vec![self.satellite().url().to_string()],
            allocated_space: ByteSize(self.config.allocated_space),
            check_in_interval: self.config.check_in_interval,
            insecure: self.config.insecure,
            ..StorageNodeConfig::default()
        };
        let handle = storagenode::start(config, StorageNodeListeners { grpc, metrics }).await?;
        self.nodes[index] = Some(handle);
        Ok(())
    }

    fn take_node(&mut self, index: usize) -> Result<Option<StorageNodeHandle>, LocalnetError> {
        Ok(self
            .nodes
            .get_mut(index)
            .ok_or(LocalnetError::NoSuchNode(index))?
            .take())
    }

    /// Stops node `index` gracefully.
    pub async fn stop_node(&mut self, index: usize) -> Result<(), LocalnetError> {
        if let Some(node) = self.take_node(index)? {
            node.shutdown().await;
        }
        Ok(())
    }

    /// Kills node `index` abruptly, as a crash would.
    pub async fn kill_node(&mut self, index: usize) -> Result<(), LocalnetError> {
        if let Some(node) = self.take_node(index)? {
            node.kill().await;
        }
        Ok(())
    }

    /// Stops and starts the satellite on the same ports and data.
    pub async fn restart_satellite(&mut self) -> Result<(), LocalnetError> {
        if let Some(sat) = self.satellite.take() {
            sat.shutdown().await;
        }
        let sat = Self::start_satellite(&self.config, &mut self.state).await?;
        self.satellite = Some(sat);
        for (_, node) in self.running_nodes() {
            node.check_in_now().await?;
        }
        Ok(())
    }

    /// Waits until the satellite counts at least `count` nodes online.
    pub async fn wait_online(&self, count: usize, timeout: Duration) -> Result<(), LocalnetError> {
        let start = Instant::now();
        loop {
            let online = self
                .satellite()
                .store()
                .online_nodes(self.config.online_window)
                .await
                .map(|n| n.len())
                .unwrap_or(0);
            if online >= count {
                return Ok(());
            }
            if start.elapsed() > timeout {
                return Err(LocalnetError::Timeout(format!(
                    "only {online} of {count} nodes online after {timeout:?}"
                )));
            }
            // Nudge the nodes instead of waiting for their interval.
            for (_, node) in self.running_nodes() {
                let _ = node.check_in_now().await;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Shell-sourceable description of the network (`export NAME=value`
    /// lines, so commands started after sourcing it see them).
    pub fn env_text(&self) -> String {
        let sat = self.satellite();
        let mut s = String::new();
        s.push_str(&format!("export SATELLITE_ADDR={}\n", sat.url()));
        s.push_str(&format!(
            "export SATELLITE_METRICS_ADDR={}\n",
            sat.metrics_addr()
        ));
        s.push_str(&format!(
            "export UPLINK_ACCESS={}\n",
            self.access.serialize()
        ));
        if self.config.insecure {
            s.push_str("export UPLINK_INSECURE=true\n");
        }
        if let Some(gw) = &self.gateway {
            let (a, b) = (self.s3(), self.s3_second());
            s.push_str(&format!(
                "export S3_ENDPOINT={}\nexport GATEWAY_METRICS_ADDR={}\n\
                 export S3_ACCESS_KEY={}\nexport S3_SECRET_KEY={}\nexport S3_EMAIL={}\nexport S3_CANONICAL_ID={}\n\
                 export S3_ACCESS_KEY_2={}\nexport S3_SECRET_KEY_2={}\nexport S3_EMAIL_2={}\nexport S3_CANONICAL_ID_2={}\n",
                gw.endpoint(),
                gw.metrics_addr(),
                a.access_key,
                a.secret_key,
                a.email,
                a.canonical_id,
                b.access_key,
                b.secret_key,
                b.email,
                b.canonical_id
            ));
        }
        for (i, node) in self.running_nodes() {
            s.push_str(&format!(
                "export STORAGENODE_{:02}_ADDR={}\nexport STORAGENODE_{:02}_METRICS_ADDR={}\n",
                i + 1,
                node.url(),
                i + 1,
                node.metrics_addr()
            ));
        }
        s
    }

    /// Writes [`Localnet::env_text`] to `dir/env`.
    pub fn write_env(&self) -> Result<PathBuf, LocalnetError> {
        let path = self.config.dir.join("env");
        std::fs::write(&path, self.env_text())
            .map_err(|e| LocalnetError::Io(format!("write {}", path.display()), e))?;
        Ok(path)
    }

    /// Stops the gateway, every node, then the satellite.
    pub async fn shutdown(mut self) {
        if let Some(gw) = self.gateway.take() {
            gw.shutdown().await;
        }
        for node in self.nodes.iter_mut() {
            if let Some(node) = node.take() {
                node.shutdown().await;
            }
        }
        if let Some(sat) = self.satellite.take() {
            sat.shutdown().await;
        }
    }
}

fn local_port(l: &TcpListener) -> Result<u16, LocalnetError> {
    l.local_addr()
        .map(|a: SocketAddr| a.port())
        .map_err(|e| LocalnetError::Io("read listener address".into(), e))
}
