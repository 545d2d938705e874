//! What the host drives: a [`Pool`] (one server) or a [`Cluster`] (a
//! router over one pool per node), behind one interface, so the JS layer
//! carries out outputs and feeds inputs without knowing which.
//!
//! [`Cluster`]: super::cluster::Cluster

use bytes::BytesMut;

use super::cache;
use super::cmd::Cmd;
use super::pool::Pool;
use super::session::{Output, RequestId, TxId};
use super::slots::Topology;
use super::ClientError;

pub trait Core {
    /// Dials what is to be dialled first.
    fn start(&mut self, now: f64);
    /// Everything the core has to say since the last call, in order.
    fn take_outputs(&mut self) -> Vec<Output>;
    /// Hands each socket's queued bytes to `send(session, bytes)`.
    fn transmit(&mut self, send: &mut dyn FnMut(usize, &[u8]));
    /// A burst of requests is big enough to transmit before the host's
    /// task ends (see `Pipeline`).
    fn burst_due(&self) -> bool;
    /// Where session `session` connects, below the URL (`None`: the URL).
    fn path(&self, session: usize) -> Option<String>;
    /// A cluster's node ids (none for a pool).
    fn node_ids(&self) -> Vec<String>;

    fn on_open(&mut self, session: usize, generation: u32, now: f64);
    /// The input buffer of `session`'s current socket; then
    /// [`Core::on_received`].
    fn input(&mut self, session: usize, generation: u32) -> Option<&mut BytesMut>;
    fn on_received(&mut self, session: usize, now: f64);
    /// See `Pipeline::take_large_bulk`: a large bulk reply on `session`
    /// that the host gathers itself, its length and what is buffered of it.
    fn take_large_bulk(
        &mut self,
        session: usize,
        generation: u32,
        min: usize,
    ) -> Option<(usize, BytesMut)>;
    /// The host gathered it (`ended`: CRLF followed): its request completes
    /// with `Outcome::Gathered`.
    fn gathered(&mut self, session: usize, generation: u32, ended: bool, now: f64);
    fn on_closed(&mut self, session: usize, generation: u32, code: u16, reason: &str, now: f64);
    fn on_tick(&mut self, now: f64);
    fn next_deadline(&mut self) -> Option<f64>;
    fn close(&mut self);

    fn request(&mut self, cmd: Cmd, now: f64) -> Result<RequestId, ClientError>;
    fn request_script(
        &mut self,
        evalsha: Cmd,
        eval: Cmd,
        now: f64,
    ) -> Result<RequestId, ClientError>;
    fn request_on(&mut self, session: usize, cmd: Cmd) -> Result<RequestId, ClientError>;
    /// To one node of a cluster, whatever its keys.
    fn request_to(&mut self, node: &str, cmd: Cmd, now: f64) -> Result<RequestId, ClientError>;
    /// A cluster's topology, as the bridge last told it.
    fn topology(&self) -> Option<Topology>;
    fn abort(&mut self, id: RequestId);
    fn multi(&mut self, watch: Option<Cmd>, owner: u32) -> Result<(TxId, RequestId), ClientError>;
    fn tx_request(&mut self, tx: TxId, cmd: Cmd) -> Result<RequestId, ClientError>;
    fn tx_end(&mut self, tx: TxId, exec: bool) -> Result<RequestId, ClientError>;
    fn subscribe(&mut self, owner: u32) -> Result<usize, ClientError>;

    fn size(&self) -> usize;
    fn is_connected(&self, i: usize) -> bool;
    fn is_ended(&self) -> bool;
    fn in_transaction(&self, i: usize) -> bool;
    fn in_pubsub(&self, i: usize) -> bool;
    fn in_blocking_call(&self, i: usize) -> bool;
    fn in_use(&self, i: usize) -> bool;
    fn cache_stats(&self) -> Option<cache::Stats>;
    fn clear_cache(&mut self);
}

/// The pool's own methods, as they are.
impl Core for Pool {
    fn start(&mut self, now: f64) {
        Pool::start(self, now)
    }
    fn take_outputs(&mut self) -> Vec<Output> {
        Pool::take_outputs(self)
    }
    fn transmit(&mut self, send: &mut dyn FnMut(usize, &[u8])) {
        Pool::transmit(self, send)
    }
    fn burst_due(&self) -> bool {
        Pool::burst_due(self)
    }
    fn path(&self, _session: usize) -> Option<String> {
        None
    }
    fn node_ids(&self) -> Vec<String> {
        Vec::new()
    }
    fn on_open(&mut self, session: usize, generation: u32, now: f64) {
        Pool::on_open(self, session, generation, now)
    }
    fn input(&mut self, session: usize, generation: u32) -> Option<&mut BytesMut> {
        Pool::input(self, session, generation)
    }
    fn on_received(&mut self, session: usize, now: f64) {
        Pool::on_received(self, session, now)
    }
    fn take_large_bulk(
        &mut self,
        session: usize,
        generation: u32,
        min: usize,
    ) -> Option<(usize, BytesMut)> {
        Pool::take_large_bulk(self, session, generation, min)
    }
    fn gathered(&mut self, session: usize, generation: u32, ended: bool, now: f64) {
        Pool::gathered(self, session, generation, ended, now)
    }
    fn on_closed(&mut self, session: usize, generation: u32, code: u16, reason: &str, now: f64) {
        Pool::on_closed(self, session, generation, code, reason, now)
    }
    fn on_tick(&mut self, now: f64) {
        Pool::on_tick(self, now)
    }
    fn next_deadline(&mut self) -> Option<f64> {
        Pool::next_deadline(self)
    }
    fn close(&mut self) {
        Pool::close(self)
    }
    fn request(&mut self, cmd: Cmd, now: f64) -> Result<RequestId, ClientError> {
        Pool::request(self, cmd, now)
    }
    fn request_script(
        &mut self,
        evalsha: Cmd,
        eval: Cmd,
        now: f64,
    ) -> Result<RequestId, ClientError> {
        Pool::request_script(self, evalsha, eval, now)
    }
    fn request_on(&mut self, session: usize, cmd: Cmd) -> Result<RequestId, ClientError> {
        Pool::request_on(self, session, cmd)
    }
    fn request_to(&mut self, _node: &str, _cmd: Cmd, _now: f64) -> Result<RequestId, ClientError> {
        Err(ClientError::Refused(
            "a node is named on a Cluster only".into(),
        ))
    }
    fn topology(&self) -> Option<Topology> {
        None
    }
    fn abort(&mut self, id: RequestId) {
        Pool::abort(self, id)
    }
    fn multi(&mut self, watch: Option<Cmd>, owner: u32) -> Result<(TxId, RequestId), ClientError> {
        Pool::multi(self, watch, owner)
    }
    fn tx_request(&mut self, tx: TxId, cmd: Cmd) -> Result<RequestId, ClientError> {
        Pool::tx_request(self, tx, cmd)
    }
    fn tx_end(&mut self, tx: TxId, exec: bool) -> Result<RequestId, ClientError> {
        Pool::tx_end(self, tx, exec)
    }
    fn subscribe(&mut self, owner: u32) -> Result<usize, ClientError> {
        Pool::subscribe(self, owner)
    }
    fn size(&self) -> usize {
        Pool::size(self)
    }
    fn is_connected(&self, i: usize) -> bool {
        Pool::is_connected(self, i)
    }
    fn is_ended(&self) -> bool {
        Pool::is_ended(self)
    }
    fn in_transaction(&self, i: usize) -> bool {
        Pool::in_transaction(self, i)
    }
    fn in_pubsub(&self, i: usize) -> bool {
        Pool::in_pubsub(self, i)
    }
    fn in_blocking_call(&self, i: usize) -> bool {
        Pool::in_blocking_call(self, i)
    }
    fn in_use(&self, i: usize) -> bool {
        Pool::in_use(self, i)
    }
    fn cache_stats(&self) -> Option<cache::Stats> {
        Pool::cache_stats(self)
    }
    fn clear_cache(&mut self) {
        Pool::clear_cache(self)
    }
}
