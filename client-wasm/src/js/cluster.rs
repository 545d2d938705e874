//! `Cluster`: Redis Cluster through a cluster bridge, with the command
//! methods of `Connection`.
//!
//! The router is the core's (`crate::core::cluster`): it learns the
//! topology from the bridge, keeps a pool per node and follows MOVED and
//! ASK itself; this class only reads the options and hands out the
//! transactions and subscriptions.

use std::rc::Rc;

use js_sys::{Array, Object, Promise, Reflect};
use wasm_bindgen::prelude::*;

use super::client::{seed, ClientInner};
use super::errors::type_error;
use super::opening::{open, Opening};
use super::options;
use super::subscription::Subscription;
use super::target::{adopted, sending_methods, Target, Via};
use super::transaction::Transaction;
use crate::core::cluster::{Cluster as Router, ClusterConfig, ReadFrom};

/// Redis Cluster: commands routed by the hash slot of their keys.
#[wasm_bindgen]
pub struct Cluster {
    inner: Rc<ClientInner>,
}

impl Target for Cluster {
    fn via(&self) -> Via {
        Via::Client(Rc::clone(&self.inner))
    }
}

sending_methods!(Cluster, issuing);

impl Cluster {
    /// `create`'s options: the pools' (`Pool.create`'s) and `readFrom`.
    fn opening(options: &JsValue) -> Result<Opening, JsValue> {
        let who = "Cluster.create";
        let per_node = options::poolsize(options, who)?;
        let read_from = match Reflect::get(options, &"readFrom".into())?.as_string() {
            None => ReadFrom::Master,
            Some(from) => match from.as_str() {
                "master" => ReadFrom::Master,
                "replica" => ReadFrom::Replica,
                "any" => ReadFrom::Any,
                _ => {
                    return Err(type_error(&format!(
                        "{who}: options.readFrom must be 'master', 'replica' or 'any'"
                    )))
                }
            },
        };
        let options = options::read(options, who)?;
        if options.config.cache.is_some() && read_from != ReadFrom::Master {
            return Err(type_error(&format!(
                "{who}: clientSideCache reads from masters only (readFrom: 'master')"
            )));
        }
        if options.config.remembered.db.is_some() {
            return Err(type_error(&format!(
                "{who}: a cluster has database 0 only (options.db)"
            )));
        }
        let config = ClusterConfig {
            pool: options.config.clone(),
            per_node,
            read_from,
        };
        Ok(Opening {
            core: Box::new(Router::new(config, seed())),
            options,
            ready: 1,
            wrap: |inner| Cluster { inner }.into(),
        })
    }
}

#[wasm_bindgen]
impl Cluster {
    /// Opens the bridge's topology feed and a pool of `poolsize` sockets
    /// (default 1) per node; `readFrom: 'master' | 'replica' | 'any'` says
    /// where read-only commands go. The other options are `Pool.create`'s.
    /// Resolves once every master was ready.
    pub fn create(options: JsValue) -> Promise {
        open(Box::new(move || Cluster::opening(&options)))
    }

    /// The bridge's ids of the nodes the client has pools for.
    #[wasm_bindgen(getter)]
    pub fn nodes(&self) -> Array {
        let ids = self.inner.core.borrow().node_ids();
        ids.iter().map(JsValue::from).collect()
    }

    /// The topology the bridge last sent: `[{ slots: [[start, end], ...],
    /// master, replicas }]`, node ids only.
    #[wasm_bindgen(getter)]
    pub fn shards(&self) -> Array {
        let Some(topology) = self.inner.core.borrow().topology() else {
            return Array::new();
        };
        topology
            .shards
            .iter()
            .map(|shard| {
                let object = Object::new();
                let slots: Array = shard
                    .slots
                    .iter()
                    .map(|&(start, end)| Array::of2(&start.into(), &end.into()))
                    .collect();
                let replicas: Array = shard.replicas.iter().map(JsValue::from).collect();
                let master = shard.master.as_deref().map_or(JsValue::NULL, JsValue::from);
                let _ = Reflect::set(&object, &"slots".into(), &slots);
                let _ = Reflect::set(&object, &"master".into(), &master);
                let _ = Reflect::set(&object, &"replicas".into(), &replicas);
                JsValue::from(object)
            })
            .collect()
    }

    /// The command methods of one node, whatever the keys' slots: `INFO`,
    /// `DBSIZE` or `scan()` of that node.
    pub fn node(&self, id: String) -> Result<JsValue, JsValue> {
        if !self.inner.core.borrow().node_ids().contains(&id) {
            return Err(type_error(&format!(
                "Cluster.node: no node {id} in the topology (see cluster.nodes)"
            )));
        }
        let node = ClusterNode {
            inner: Rc::clone(&self.inner),
            id: id.into(),
        };
        Ok(adopted(node.into(), &self.inner))
    }

    /// The lifecycle events of the topology feed (`connection` 0) and of
    /// every node's sockets; `ready` with `connection: 0` once every master
    /// was ready.
    #[wasm_bindgen(getter)]
    pub fn events(&self) -> web_sys::EventTarget {
        self.inner.events.clone()
    }

    pub fn close(&self) {
        self.inner.close();
    }

    /// A transaction, on the node of its first keyed command (or of the
    /// watched keys): every key must be in one slot.
    pub fn multi(&self, watch: JsValue) -> Promise {
        Transaction::begin(&self.inner, watch)
    }

    /// Pub/sub on a socket of one master (published messages reach every
    /// node of a cluster).
    #[wasm_bindgen(js_name = startSubscribe)]
    pub fn start_subscribe(&self) -> Promise {
        Subscription::start(&self.inner)
    }
}

/// One node of a `Cluster` (`cluster.node(id)`): its commands go to that
/// node, redirects are not followed.
#[wasm_bindgen]
pub struct ClusterNode {
    inner: Rc<ClientInner>,
    id: Rc<str>,
}

impl Target for ClusterNode {
    fn via(&self) -> Via {
        Via::Node(Rc::clone(&self.inner), Rc::clone(&self.id))
    }
}

sending_methods!(ClusterNode, issuing);

#[wasm_bindgen]
impl ClusterNode {
    /// The node's id in the bridge's topology.
    #[wasm_bindgen(getter)]
    pub fn id(&self) -> String {
        self.id.to_string()
    }
}
