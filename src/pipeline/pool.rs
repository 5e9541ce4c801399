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
    max_capacity: usize,
}

impl<T> Pool<T> {
    /// A pool that keeps at most `keep` idle buffers of at most `max_capacity` elements;
    /// any others are freed.
    pub fn new(keep: usize, max_capacity: usize) -> Pool<T> {
        Pool {
            free: Mutex::new(Vec::new()),
            keep,
            max_capacity,
        }
    }

    /// An empty buffer with room for at least `cap` elements: the smallest idle one that
    /// is big enough; else the largest idle one, grown (so the pool settles on a few
    /// buffers of the size batches need); else a new one. A request above the size limit
    /// (one huge record) gets a new buffer, which `give` then frees.
    pub fn take(&self, cap: usize) -> Vec<T> {
        let got = {
            let mut free = self.free.lock().unwrap_or_else(|e| e.into_inner());
            let fitting = free
                .iter()
                .enumerate()
                .filter(|(_, v)| v.capacity() >= cap)
                .min_by_key(|(_, v)| v.capacity())
                .map(|(i, _)| i);
            let grow = (cap <= self.max_capacity)
                .then(|| {
                    free.iter()
                        .enumerate()
                        .max_by_key(|(_, v)| v.capacity())
                        .map(|(i, _)| i)
                })
                .flatten();
            fitting.or(grow).map(|i| free.swap_remove(i))
        };
        match got {
            Some(mut v) => {
                v.reserve_exact(cap);
                v
            }
            None => Vec::with_capacity(cap),
        }
    }

    /// Returns a buffer for reuse (its elements are dropped here). Buffers above the
    /// pool's size limit (grown by one huge record) are freed instead of kept.
    pub fn give(&self, mut v: Vec<T>) {
        if v.capacity() == 0 || v.capacity() > self.max_capacity {
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
    /// Pools sized for `in_flight` batches of about `batch_bytes` at once.
    pub fn new(in_flight: usize, batch_bytes: usize) -> Buffers {
        Buffers {
            // A batch in flight holds up to three byte buffers: its lines, its rewritten
            // lines and a shard chunk. A batch can exceed its budget by one line, and the
            // rewritten copy by its tokens; anything beyond twice the budget is a one-off.
            bytes: Pool::new(3 * in_flight + 4, 2 * batch_bytes + (64 << 10)),
            items: Pool::new(in_flight + 2, usize::MAX),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reuses_capacity_not_content() {
        let p: Pool<u8> = Pool::new(1, 1 << 20);
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

    #[test]
    fn smallest_fitting_buffer_and_no_growing_or_hoarding_for_huge_ones() {
        let p: Pool<u8> = Pool::new(8, 1000);
        p.give(Vec::with_capacity(500));
        p.give(Vec::with_capacity(100));
        p.give(Vec::with_capacity(5000));
        assert_eq!(p.free.lock().unwrap().len(), 2, "the huge one is freed");
        assert_eq!(p.take(50).capacity(), 100);
        // Nothing big enough: the largest idle buffer is grown, not a new one made.
        assert!(p.take(800).capacity() >= 800);
        assert!(p.free.lock().unwrap().is_empty());
        // Above the limit: a new buffer, and the idle ones are left as they are.
        p.give(Vec::with_capacity(500));
        assert!(p.take(5000).capacity() >= 5000);
        assert_eq!(p.free.lock().unwrap()[0].capacity(), 500);
    }
}
