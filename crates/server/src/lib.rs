//! dacu-server: the festival engine as an HTTP/JSON service, on the node runtime.
//!
//! - [`config`]: the settings file, environment and flags.
//! - [`app`]: what handlers share; who a request is from and what it may touch.
//! - [`tokens`]: API tokens, stored hashed in the data directory (a stream node's: in the stream).
//! - [`lead`]: a stream node's lease: leading, stepping down, taking over.
//! - [`idempotency`]: `Idempotency-Key` on writes: scoping, fingerprints, keys in flight.
//! - [`problem`]: errors as RFC 9457 problem documents; the kind → status table.
//! - [`routes`]: the endpoints (`commands`, `reads`, `tokens`, `ops`) and the layers every
//!   request passes.
//! - [`openapi`]: the OpenAPI 3.1 document, generated from the handlers.
//! - [`push`]: live push over Server-Sent Events.
//! - [`console`]: the live screens for operators and participants, served from the binary.
//!
//! [`Service::open`] opens the data directory and starts the node; [`Service::run`] serves
//! a listener until the shutdown future resolves, then lets in-flight requests finish;
//! [`Service::stop`] makes the last batch durable, snapshots and releases the directory.
//! docs/api.md documents the API.

// A problem document is a few strings; it travels only on the error path, where moving
// 200 bytes costs nothing next to the response it becomes.
#![allow(clippy::result_large_err, reason = "problems travel on the error path only")]

pub mod app;
pub mod config;
pub mod console;
pub mod idempotency;
pub mod lead;
pub mod openapi;
pub mod problem;
pub mod push;
pub mod routes;
pub mod tokens;

use app::App;
use config::Config;
use dacu_log::{DataDir, Options, StoreError};
use dacu_node::{Clock, Node, NodeConfig, ScaledClock, SystemClock, Time};
use std::future::Future;
use std::path::Path;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex, RwLock};

pub struct Service {
    app: Arc<App>,
}

impl Service {
    /// Opens (or, with `festival`, creates) the data directory and starts its node.
    pub fn open(
        data: &Path,
        festival: Option<&Path>,
        cfg: Config,
        opts: Options,
        compare: dacu_core::view::ReportOptions,
    ) -> Result<(Service, dacu_log::OpenReport), String> {
        let tokens = tokens::Tokens::load(data)?;
        let (dir, report) = DataDir::open_or_create(data, festival, opts).map_err(|e| e.to_string())?;
        let festival = dir.engine().festival_arc();
        let clock = clock(&cfg)?;
        let node = Node::start(dir, node_config(&cfg, &clock)).map_err(|e| e.to_string())?;
        let service = Service::with_node(node, data, cfg, festival, (tokens, None), clock, compare)?;
        Ok((service, report))
    }

    /// Starts a node whose log is the JetStream stream at `log` (docs/scale-out.md):
    /// `data` is the node's own directory (its lock and tokens), created when missing or
    /// empty; the stream is created from `festival` when it holds none yet, and the state
    /// is rebuilt from its batches.
    pub fn open_stream(
        data: &Path,
        log: &dacu_jetstream::LogUrl,
        festival: Option<&str>,
        cfg: Config,
        report: dacu_core::view::ReportOptions,
    ) -> Result<(Service, dacu_node::StreamOpened), String> {
        let lock = dacu_jetstream::node_dir::open(data, log).map_err(|e| e.to_string())?;
        let opts = dacu_jetstream::StreamOptions { replicas: cfg.log.replicas, ..Default::default() };
        let bucket = dacu_jetstream::tokens::Bucket::open(log, &opts).map_err(|e| e.to_string())?;
        let tokens = stream_tokens(&bucket, data)?;
        let lease = dacu_jetstream::lease::Lease::open(log, &opts).map_err(|e| e.to_string())?;
        let (start, opened) =
            dacu_node::StreamStart::open(log, &opts, festival, data, lock).map_err(|e| e.to_string())?;
        let fest = start.engine.festival_arc();
        let clock = clock(&cfg)?;
        // Every stream node starts as a follower; its elector makes it the leader when
        // the lease is free (docs/scale-out.md, "Failover").
        let node = Node::follow_stream(start, node_config(&cfg, &clock)).map_err(|e| e.to_string())?;
        let bucket = Some((bucket, Mutex::new(Some(std::time::Instant::now()))));
        let cluster = Arc::new(lead::Cluster::new(lease, &cfg.log));
        let mut service = Service::with_node(node, data, cfg, fest, (tokens, bucket), clock, report)?;
        Arc::get_mut(&mut service.app).expect("a new service").cluster = Some(cluster);
        Ok((service, opened))
    }

    fn with_node(
        node: Node,
        data: &Path,
        cfg: Config,
        festival: Arc<dacu_core::Festival>,
        (tokens, token_bucket): (tokens::Tokens, TokenBucket),
        clock: Arc<dyn Clock>,
        report: dacu_core::view::ReportOptions,
    ) -> Result<Service, String> {
        let metrics = metrics_exporter_prometheus::PrometheusBuilder::new()
            .install_recorder()
            .map_err(|e| format!("metrics: {e}"))?;
        let app = Arc::new(App {
            node: Arc::new(node),
            clock,
            data: data.to_path_buf(),
            cfg,
            festival,
            tokens: RwLock::new(tokens),
            tokens_write: tokio::sync::Mutex::new(()),
            token_bucket,
            limiter: Mutex::new(Default::default()),
            metrics,
            ready: true.into(),
            push: Default::default(),
            in_flight: Default::default(),
            report,
            cluster: None,
        });
        Ok(Service { app })
    }

    pub fn app(&self) -> &Arc<App> {
        &self.app
    }

    /// Serves `listener` until `shutdown` resolves; requests in flight are answered.
    pub async fn run(
        &self,
        listener: tokio::net::TcpListener,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        let app = self.app.clone();
        if let Some(c) = &app.cluster {
            c.start(app.node.clone(), listener.local_addr()?);
        }
        let router = routes::router(app.clone());
        let hub = tokio::spawn(push::run(app.clone()));
        let upkeep = tokio::spawn(metrics_upkeep(app.metrics.clone()));
        let stopping = async move {
            shutdown.await;
            app.ready.store(false, Ordering::SeqCst);
            // Live streams never end on their own: closing them lets the server finish.
            app.push.close_all();
        };
        let served = axum::serve(listener, router).with_graceful_shutdown(stopping).await;
        hub.abort();
        upkeep.abort();
        let _ = hub.await;
        let _ = upkeep.await;
        if let Some(c) = &self.app.cluster {
            c.stop();
        }
        served
    }

    /// After [`Service::run`] returned: the node's last commit, final snapshot, lock
    /// released.
    pub fn stop(self) -> Result<dacu_node::Shutdown, StoreError> {
        let app =
            Arc::try_unwrap(self.app).map_err(|_| StoreError::Poisoned("requests still hold the service".into()))?;
        let node =
            Arc::try_unwrap(app.node).map_err(|_| StoreError::Poisoned("requests still hold the node".into()))?;
        let down = node.shutdown();
        if let Some(c) = &app.cluster {
            c.stop();
            c.release();
        }
        down
    }
}

type TokenBucket = Option<(dacu_jetstream::tokens::Bucket, Mutex<Option<std::time::Instant>>)>;

/// A stream node's tokens: the stream's bucket's; when it holds none yet, the node
/// directory's file, which is then put in the bucket for every node.
fn stream_tokens(bucket: &dacu_jetstream::tokens::Bucket, data: &Path) -> Result<tokens::Tokens, String> {
    let read = bucket.read_blocking()?;
    if let Some(json) = read.json {
        return serde_json::from_slice(&json).map_err(|e| format!("the tokens bucket: {e}"));
    }
    let local = tokens::Tokens::load(data)?;
    if !local.tokens.is_empty() {
        let json = serde_json::to_vec_pretty(&local).expect("tokens serialise");
        // Another node may have put its own first: then those are the stream's.
        if bucket.write_blocking(json, read.revision).is_err() {
            let again = bucket.read_blocking()?.json.unwrap_or_default();
            return serde_json::from_slice(&again).map_err(|e| format!("the tokens bucket: {e}"));
        }
    }
    Ok(local)
}

/// The node's clock: the system's, or a scaled one from `clock.start`.
fn clock(cfg: &Config) -> Result<Arc<dyn Clock>, String> {
    if cfg.clock.start == "system" {
        return Ok(Arc::new(SystemClock));
    }
    let start = dacu_core::Ts::parse(&cfg.clock.start).map_err(|e| format!("clock.start: {e}"))?;
    Ok(Arc::new(ScaledClock::new(start, cfg.clock.speed)))
}

fn node_config(cfg: &Config, clock: &Arc<dyn Clock>) -> NodeConfig {
    NodeConfig {
        queue_requests: cfg.limits.queue_requests,
        max_request_commands: cfg.limits.batch_commands.max(1),
        batch_commands: cfg.batch.commands,
        batch_wait: std::time::Duration::from_micros(cfg.batch.wait_us),
        read_view: true,
        snapshot_every: cfg.snapshots.every,
        time: Time::Clock(clock.clone()),
    }
}

/// How often the recorded durations are folded into the exported summaries.
const METRICS_UPKEEP: std::time::Duration = std::time::Duration::from_secs(1);

/// Folds the histograms' recorded samples into their summaries. The exporter keeps every
/// sample until then, so without this a service nobody scrapes would grow by a few bytes
/// with each request, without bound. The folding runs off the request workers: at tens of
/// thousands of requests a second it takes milliseconds.
async fn metrics_upkeep(handle: metrics_exporter_prometheus::PrometheusHandle) {
    let mut every = tokio::time::interval(METRICS_UPKEEP);
    every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        every.tick().await;
        let h = handle.clone();
        let _ = tokio::task::spawn_blocking(move || h.run_upkeep()).await;
    }
}
