//! A map kept as a list of pairs, for the router's few-entry tables.
//!
//! A cluster has a handful of nodes and a bounded number of sockets on
//! each (its pool, plus at most `cluster::MAX_EXTRA_SOCKETS` that
//! subscriptions hold): a linear scan over that many pairs is as fast as
//! hashing, and each `HashMap` instantiation costs the wasm a copy of
//! hashbrown's code (about half a kilobyte gzip per key and value type).

pub struct SmallMap<K, V>(Vec<(K, V)>);

impl<K, V> Default for SmallMap<K, V> {
    fn default() -> Self {
        SmallMap(Vec::new())
    }
}

impl<K: PartialEq, V> SmallMap<K, V> {
    pub fn get<Q>(&self, key: &Q) -> Option<&V>
    where
        K: std::borrow::Borrow<Q>,
        Q: PartialEq + ?Sized,
    {
        self.0
            .iter()
            .find(|(k, _)| k.borrow() == key)
            .map(|(_, v)| v)
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.0.iter_mut().find(|(k, _)| k == key).map(|(_, v)| v)
    }

    /// Sets `key`'s value, replacing any earlier one.
    pub fn insert(&mut self, key: K, value: V) {
        match self.get_mut(&key) {
            Some(slot) => *slot = value,
            None => self.0.push((key, value)),
        }
    }

    pub fn retain(&mut self, mut keep: impl FnMut(&K, &mut V) -> bool) {
        self.0.retain_mut(|(k, v)| keep(k, v));
    }

    pub fn values(&self) -> impl Iterator<Item = &V> {
        self.0.iter().map(|(_, v)| v)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_holds_its_latest_value_until_dropped() {
        let mut map: SmallMap<(usize, usize), u32> = SmallMap::default();
        map.insert((1, 0), 10);
        map.insert((2, 0), 20);
        map.insert((1, 0), 11);
        assert_eq!(map.get(&(1, 0)), Some(&11));
        assert_eq!(map.values().count(), 2);
        *map.get_mut(&(2, 0)).unwrap() += 1;
        map.retain(|&(node, _), _| node != 1);
        assert_eq!(map.get(&(1, 0)), None);
        assert_eq!(map.values().copied().collect::<Vec<_>>(), [21]);
    }

    #[test]
    fn string_keys_are_found_by_str() {
        let mut map: SmallMap<String, usize> = SmallMap::default();
        map.insert("node-a".to_owned(), 0);
        assert_eq!(map.get("node-a"), Some(&0));
        assert_eq!(map.get("node-b"), None);
    }
}
