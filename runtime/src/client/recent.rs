//! What was seen lately, bounded in time and in number: the Stream client's handled
//! events by `messageId`, and the callback handler's signatures and nonces.

use std::collections::{HashMap, VecDeque};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Values by key, each kept for `window` after it was put, and at most `max` of them
/// (the oldest go first). Cheap to clone: clones share the entries.
#[derive(Clone)]
pub(crate) struct Recent<V> {
    entries: Arc<Mutex<Entries<V>>>,
    max: usize,
    window: Duration,
}

struct Entries<V> {
    map: HashMap<String, (V, Instant)>,
    /// Keys in the order they were first put.
    order: VecDeque<String>,
}

impl<V: Clone> Recent<V> {
    pub(crate) fn new(max: usize, window: Duration) -> Recent<V> {
        Recent {
            entries: Arc::new(Mutex::new(Entries {
                map: HashMap::new(),
                order: VecDeque::new(),
            })),
            max,
            window,
        }
    }

    /// The value put for `key` within the window.
    #[cfg(any(feature = "stream", test))]
    pub(crate) fn get(&self, key: &str) -> Option<V> {
        let e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        e.map
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.window)
            .map(|(v, _)| v.clone())
    }

    /// Puts `value` for `key`; answers the value it had within the window, if any.
    pub(crate) fn put(&self, key: &str, value: V) -> Option<V> {
        let mut e = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        let Entries { map, order } = &mut *e;
        while order.len() >= self.max
            || order
                .front()
                .and_then(|k| map.get(k))
                .is_some_and(|(_, at)| at.elapsed() >= self.window)
        {
            match order.pop_front() {
                Some(old) => {
                    map.remove(&old);
                }
                None => break,
            }
        }
        let previous = map.insert(key.to_owned(), (value, Instant::now()));
        if previous.is_none() {
            order.push_back(key.to_owned());
        }
        previous
            .filter(|(_, at)| at.elapsed() < self.window)
            .map(|(v, _)| v)
    }

    #[cfg(test)]
    pub(crate) fn len(&self) -> usize {
        self.entries
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .map
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bounded_in_number_and_time() {
        let r = Recent::new(100, Duration::from_secs(60));
        for i in 0..150 {
            assert_eq!(r.put(&format!("k{i}"), i), None);
        }
        assert!(r.len() <= 100);
        assert_eq!(r.get("k0"), None);
        assert_eq!(r.get("k149"), Some(149));
        assert_eq!(r.put("k149", 7), Some(149));
        let gone = Recent::new(10, Duration::ZERO);
        gone.put("k", 1);
        assert_eq!(gone.get("k"), None);
        assert_eq!(gone.put("k", 2), None);
    }
}
