//! Recycled batch buffers.
//!
//! Every batch passes through a handful of megabyte-sized buffers: the reader's lines, a
//! worker's rewritten lines, the writer's per-shard chunk. Allocating and freeing them per
//! batch, on three different threads, fragments glibc's per-thread arenas until peak RSS
//! grows with the input even though the live heap does not. Handing the buffers back keeps
//! the set of big allocations fixed for the whole run. Only capacity is reused, never
//! content, so output does not depend on which buffer a batch got.

use std::sync::Mutex;

/// A bounded free list of `Vec<T>`s.
pub(crate) struct Pool<T> {
    free: Mutex<Vec<Vec<T>>>,
    keep: usize,
}

impl<T> Pool<T> {
    /// A pool that keeps at most `keep` idle buffers; any more are freed.
    pub fn new(keep: usize) -> Pool<T> {
        Pool {
            free: Mutex::new(Vec::new()),
            keep,
        }
    }

    /// An empty buffer with room for at least `cap` elements: an idle one that is big
    /// enough if there is one (so buffers do not keep growing), else a new one.
    pub fn take(&self, cap: usize) -> Vec<T> {
        let got = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            match free.iter().position(|v| v.capacity() >= cap) {
                Some(i) => Some(free.swap_remove(i)),
                None => free.pop(),
            }
        };
        match got {
            Some(mut v) => {
                v.reserve_exact(cap);
                v
            }
            None => Vec::with_capacity(cap),
        }
    }

    /// Returns a buffer for reuse (its elements are dropped here).
    pub fn give(&self, mut v: Vec<T>) {
        if v.capacity() == 0 {
            return;
        }
        v.clear();
        let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
        if free.len() < self.keep {
            free.push(v);
        }
    }
}

/// The pools one run shares between its reader, workers and writer.
pub(crate) struct Buffers {
    /// Input lines, rewritten lines and shard chunks.
    pub bytes: Pool<u8>,
    /// The reader's per-batch line index.
    pub items: Pool<super::read::Item>,
}

impl Buffers {
    /// Pools sized for `in_flight` batches at once.
    pub fn new(in_flight: usize) -> Buffers {
        Buffers {
            // A batch in flight holds up to three byte buffers: its lines, its rewritten
            // lines and a shard chunk.
            bytes: Pool::new(3 * in_flight + 4),
            items: Pool::new(in_flight + 2),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_capacity_not_content() {
        let p: Pool<u8> = Pool::new(1);
        let mut a = p.take(100);
        a.extend_from_slice(b"secret");
        let cap = a.capacity();
        p.give(a);
        let b = p.take(10);
        assert!(b.is_empty());
        assert_eq!(b.capacity(), cap);
        // Beyond `keep`, buffers are freed rather than hoarded.
        p.give(vec![1; 10]);
        p.give(vec![2; 10]);
        assert_eq!(p.free.lock().unwrap().len(), 1);
    }
}
