//! One localnet per test, in a temp dir that is kept (and printed) when the
//! test fails.

use std::time::Duration;

use localnet::{Localnet, LocalnetConfig};
use satstore_common::erasure::RedundancyScheme;
use uplink::{Project, UplinkConfig};

use crate::postgres::TempPostgres;

/// Which satellite database a test network uses.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Db {
    /// SQLite file in the network's dir.
    Sqlite,
    /// A throwaway PostgreSQL cluster started for the test.
    Postgres,
}

/// Options of a test network.
pub struct TestNetBuilder {
    nodes: usize,
    redundancy: RedundancyScheme,
    segment_size: Option<u64>,
    db: Db,
    online_window: Duration,
    insecure: bool,
}

impl Default for TestNetBuilder {
    fn default() -> Self {
        TestNetBuilder {
            nodes: 10,
            redundancy: RedundancyScheme::default(),
            segment_size: None,
            db: Db::Sqlite,
            online_window: Duration::from_secs(60),
            insecure: false,
        }
    }
}

impl TestNetBuilder {
    /// Number of storage nodes.
    pub fn nodes(mut self, n: usize) -> Self {
        self.nodes = n;
        self
    }
    /// Redundancy scheme.
    pub fn redundancy(mut self, r: RedundancyScheme) -> Self {
        self.redundancy = r;
        self
    }
    /// Largest segment size.
    pub fn segment_size(mut self, bytes: u64) -> Self {
        self.segment_size = Some(bytes);
        self
    }
    /// Satellite database.
    pub fn db(mut self, db: Db) -> Self {
        self.db = db;
        self
    }
    /// Online window of the satellite.
    pub fn online_window(mut self, w: Duration) -> Self {
        self.online_window = w;
        self
    }

    /// Plaintext gRPC between the peers (and for [`TestNet::project`]).
    pub fn insecure(mut self, insecure: bool) -> Self {
        self.insecure = insecure;
        self
    }

    /// Starts the network; returns once every node is online.
    pub async fn start(self) -> anyhow::Result<TestNet> {
        let dir = tempfile::Builder::new()
            .prefix("satstore-test-")
            .tempdir()?;
        let pg = match self.db {
            Db::Sqlite => None,
            Db::Postgres => Some(TempPostgres::start()?),
        };
        let mut config = LocalnetConfig::new(dir.path());
        config.nodes = self.nodes;
        config.redundancy = self.redundancy;
        config.max_segment_size = self.segment_size;
        config.online_window = self.online_window;
        config.database_url = pg.as_ref().map(|p| p.url());
        config.allocated_space = 4 << 30;
        config.insecure = self.insecure;
        let net = Localnet::start(config).await?;
        Ok(TestNet {
            net: Some(net),
            dir: Some(dir),
            _pg: pg,
            insecure: self.insecure,
        })
    }
}

/// A running test network.
pub struct TestNet {
    net: Option<Localnet>,
    dir: Option<tempfile::TempDir>,
    _pg: Option<TempPostgres>,
    insecure: bool,
}

impl TestNet {
    /// A builder with the defaults: 10 nodes, 4/6/8/10, SQLite.
    pub fn builder() -> TestNetBuilder {
        TestNetBuilder::default()
    }

    /// The default network.
    pub async fn start() -> anyhow::Result<TestNet> {
        Self::builder().start().await
    }

    /// The localnet.
    pub fn net(&self) -> &Localnet {
        self.net.as_ref().expect("network is running until drop")
    }

    /// The localnet, mutably (to stop, kill or restart peers).
    pub fn net_mut(&mut self) -> &mut Localnet {
        self.net.as_mut().expect("network is running until drop")
    }

    /// A project opened with the network's access.
    pub async fn project(&self) -> anyhow::Result<Project> {
        self.project_with(&UplinkConfig::default()).await
    }

    /// A project with a custom uplink config (dialing as the network does).
    pub async fn project_with(&self, config: &UplinkConfig) -> anyhow::Result<Project> {
        let config = UplinkConfig {
            insecure: config.insecure || self.insecure,
            ..config.clone()
        };
        Ok(self.net().access().config_open_project(&config).await?)
    }

    /// Stops every peer.
    pub async fn shutdown(mut self) {
        if let Some(net) = self.net.take() {
            net.shutdown().await;
        }
    }
}

impl Drop for TestNet {
    fn drop(&mut self) {
        if std::thread::panicking()
            && let Some(dir) = self.dir.take()
        {
            let path = dir.keep();
            eprintln!("test failed; network data kept in {}", path.display());
        }
    }
}
