//! Splitting a computation into parts that run on several threads.
//!
//! Natively the `gemm` kernels use rayon themselves. In wasm, threads exist only in the threaded
//! build (`target_feature = "atomics"`, shared memory), where Web Workers started by the page
//! join a pool by calling [`worker_loop`]; every other build runs the parts inline.

use std::ops::Range;

use super::gemm::SendPtr;

/// Runs `f(0)`, …, `f(parts − 1)`, spread over the pool's threads and the caller's; returns when
/// all have finished.
pub fn for_each_part(parts: usize, f: &(dyn Fn(usize) + Sync)) {
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    if pool::workers() > 0 && parts > 1 {
        return pool::run(parts, f);
    }
    (0..parts).for_each(f);
}

/// Calls `f` on ranges that together cover `0..len`, four per thread and shrinking
/// ([`shrinking_range`]), spread over the pool as [`for_each_part`] does. The ranges are cut the
/// same way on one thread, so single-threaded builds and native tests run the split code too.
pub fn for_each_range(len: usize, f: &(dyn Fn(Range<usize>) + Sync)) {
    let parts = (4 * threads()).min(len);
    for_each_part(parts, &|part| f(shrinking_range(len, parts, part, 1)));
}

/// Part `part` of `parts` consecutive ranges that cover `0..len`, each shorter than the one
/// before: part `i` ends at `len·(1 − (1 − (i+1)/parts)²)`, rounded up to a multiple of `unit`
/// (the last at `len`), but leaves at least `unit` to each later part where `len` allows.
/// Threads claim parts in order, so a thread that starts late takes fewer, and the last part to
/// finish, which the others wait on, is a short one (about `len/parts²` where equal parts would
/// have `len/parts`). Empty when `part ≥ parts`.
pub fn shrinking_range(len: usize, parts: usize, part: usize, unit: usize) -> Range<usize> {
    let unit = unit.max(1);
    let end = |i: usize| match i {
        0 => 0,
        i if i >= parts => len,
        i => {
            // len·(parts² − (parts − i)²) / parts², in integers: no rounding differs by platform.
            let shrinking = (len * i * (2 * parts - i))
                .div_ceil(parts * parts)
                .next_multiple_of(unit);
            let room_for_the_rest = len.saturating_sub((parts - i) * unit) / unit * unit;
            shrinking.min(room_for_the_rest)
        }
    };
    end(part)..end(part + 1).max(end(part))
}

/// [`for_each_range`] over `data` seen as `data.len() / unit` units of `unit` values: each range
/// of units gets its own values, `f(range, &mut data[range.start·unit..range.end·unit])`.
pub fn for_each_chunk_mut<T: Send>(
    data: &mut [T],
    unit: usize,
    f: &(dyn Fn(Range<usize>, &mut [T]) + Sync),
) {
    if unit == 0 {
        return;
    }
    let len = data.len() / unit;
    let ptr = SendPtr(data.as_mut_ptr());
    for_each_range(len, &|range| {
        // SAFETY: the ranges are disjoint and inside 0..len, so their chunks are disjoint parts
        // of `data`, which outlives the call (for_each_range returns when every range is done).
        let chunk = unsafe {
            std::slice::from_raw_parts_mut(ptr.get().add(range.start * unit), range.len() * unit)
        };
        f(range, chunk)
    });
}

/// Threads that take parts: the caller plus the pool's workers.
pub fn threads() -> usize {
    #[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
    return 1 + pool::workers();
    #[cfg(not(all(target_arch = "wasm32", target_feature = "atomics")))]
    1
}

/// Joins the pool and takes parts forever (called by each pool Web Worker).
#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
pub fn worker_loop() -> ! {
    pool::worker_loop()
}

#[cfg(all(target_arch = "wasm32", target_feature = "atomics"))]
mod pool {
    use std::sync::atomic::{AtomicUsize, Ordering};
    use std::sync::{Condvar, Mutex, MutexGuard};

    /// The job being run: a pointer to the caller's `&dyn Fn`, valid until `done == parts`
    /// (the caller waits for that before it returns).
    struct Job {
        f: usize,
        parts: usize,
        next: usize,
        done: usize,
    }

    static JOB: Mutex<Option<Job>> = Mutex::new(None);
    static WAKE: Condvar = Condvar::new();
    static FINISHED: Condvar = Condvar::new();
    static WORKERS: AtomicUsize = AtomicUsize::new(0);
    /// Bumped for every job, so idle workers can spin on it briefly before sleeping: a
    /// forward pass runs a few hundred short jobs and waking a sleeping worker is slow.
    static GENERATION: AtomicUsize = AtomicUsize::new(0);
    /// Parts of the current job not yet finished (the caller spins on it, then sleeps).
    static PENDING: AtomicUsize = AtomicUsize::new(0);
    /// Spins (caller and workers) before sleeping: enough to bridge the serial passes between
    /// a forward's jobs (a few milliseconds), as a sleeping worker is slow to wake. At 200 000
    /// a 2-thread forward saw about 17 worker sleeps and 9.4 ms of caller wait; at 2 000 000,
    /// none and 7.6 ms.
    const SPINS: usize = 2_000_000;

    pub fn workers() -> usize {
        WORKERS.load(Ordering::Acquire)
    }

    fn lock() -> MutexGuard<'static, Option<Job>> {
        JOB.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    /// Claims the next part of the current job, if any.
    fn claim(job: &mut Option<Job>) -> Option<(usize, usize)> {
        let j = job.as_mut()?;
        (j.next < j.parts).then(|| {
            j.next += 1;
            (j.f, j.next - 1)
        })
    }

    fn claim_available(job: &Option<Job>) -> bool {
        job.as_ref().is_some_and(|j| j.next < j.parts)
    }

    fn finish_part() {
        let mut job = lock();
        if let Some(j) = job.as_mut() {
            j.done += 1;
            PENDING.fetch_sub(1, Ordering::AcqRel);
            if j.done == j.parts {
                FINISHED.notify_all();
            }
        }
    }

    /// # Safety of the pointer
    /// `f` lives on the caller's stack; workers dereference it only for parts they claimed
    /// while the job was set, and the caller clears the job only after every claimed part
    /// finished.
    fn call(f: usize, part: usize) {
        let f = unsafe { *(f as *const &(dyn Fn(usize) + Sync)) };
        f(part);
    }

    pub fn run(parts: usize, f: &(dyn Fn(usize) + Sync)) {
        let fref: &(dyn Fn(usize) + Sync) = f;
        let ptr = &fref as *const &(dyn Fn(usize) + Sync) as usize;
        {
            let mut job = lock();
            *job = Some(Job {
                f: ptr,
                parts,
                next: 0,
                done: 0,
            });
            PENDING.store(parts, Ordering::Release);
            GENERATION.fetch_add(1, Ordering::AcqRel);
            WAKE.notify_all();
        }
        loop {
            let claimed = claim(&mut lock());
            match claimed {
                Some((f, part)) => {
                    call(f, part);
                    finish_part();
                }
                None => break,
            }
        }
        for _ in 0..SPINS {
            if PENDING.load(Ordering::Acquire) == 0 {
                break;
            }
            std::hint::spin_loop();
        }
        let mut job = lock();
        while job.as_ref().is_some_and(|j| j.done < j.parts) {
            job = FINISHED
                .wait(job)
                .unwrap_or_else(|poisoned| poisoned.into_inner());
        }
        *job = None;
    }

    pub fn worker_loop() -> ! {
        WORKERS.fetch_add(1, Ordering::AcqRel);
        loop {
            // Read the generation before looking for work: a job set after this read bumps it.
            let seen = GENERATION.load(Ordering::Acquire);
            let claimed = claim(&mut lock());
            if let Some((f, part)) = claimed {
                call(f, part);
                finish_part();
                continue;
            }
            let mut spins = 0;
            while GENERATION.load(Ordering::Acquire) == seen && spins < SPINS {
                std::hint::spin_loop();
                spins += 1;
            }
            let job = lock();
            if GENERATION.load(Ordering::Acquire) != seen || claim_available(&job) {
                continue;
            }
            // The caller sets a job and notifies under this lock: no wake-up is lost.
            drop(WAKE.wait(job).unwrap_or_else(|p| p.into_inner()));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn ranges_cover_every_index_once_in_several_parts() {
        for len in [0, 1, 2, 3, 7, 64, 2048] {
            let seen = Mutex::new(vec![0u32; len]);
            let parts = Mutex::new(0);
            for_each_range(len, &|range| {
                *parts.lock().unwrap() += 1;
                for i in range {
                    seen.lock().unwrap()[i] += 1;
                }
            });
            assert!(
                seen.into_inner().unwrap().iter().all(|&n| n == 1),
                "len {len}"
            );
            // Split even on one thread, so that the split code runs in every build's tests.
            assert_eq!(*parts.lock().unwrap(), len.min(4), "len {len}");
        }
    }

    #[test]
    fn shrinking_ranges_cover_the_length_in_order_and_end_short() {
        for len in [0, 1, 2, 3, 5, 16, 49, 64, 196, 785, 3136] {
            for parts in [1, 2, 3, 4, 8, 16] {
                for unit in [1, 8] {
                    let ranges: Vec<_> = (0..parts)
                        .map(|p| shrinking_range(len, parts, p, unit))
                        .collect();
                    let what = format!("len {len} parts {parts} unit {unit}: {ranges:?}");
                    assert_eq!(ranges[0].start, 0, "{what}");
                    assert_eq!(ranges[parts - 1].end, len, "{what}");
                    for pair in ranges.windows(2) {
                        assert_eq!(pair[0].end, pair[1].start, "{what}");
                        assert!(pair[0].start <= pair[0].end, "{what}");
                    }
                    // Boundaries on the unit, so that no tile straddles two parts.
                    for r in &ranges[..parts - 1] {
                        assert_eq!(r.end % unit, 0, "{what}");
                    }
                    // Every part gets work when there is a unit for each.
                    if len >= parts * unit {
                        assert!(ranges.iter().all(|r| !r.is_empty()), "{what}");
                    }
                    // The last part, which the others wait on, is no longer than an equal share
                    // (rounded to the unit), and shorter than the first.
                    if parts > 1 && len >= parts * parts * unit {
                        let last = ranges[parts - 1].len();
                        assert!(
                            last <= len.div_ceil(parts).next_multiple_of(unit) / 2,
                            "{what}"
                        );
                        assert!(last < ranges[0].len(), "{what}");
                    }
                    assert!(shrinking_range(len, parts, parts, unit).is_empty());
                }
            }
        }
    }

    #[test]
    fn chunks_are_the_units_of_their_range() {
        let mut data: Vec<usize> = vec![0; 3 * 10];
        for_each_chunk_mut(&mut data, 3, &|range, chunk| {
            assert_eq!(chunk.len(), 3 * range.len());
            for (unit, values) in range.zip(chunk.chunks_exact_mut(3)) {
                values.fill(unit);
            }
        });
        assert_eq!(data, (0..30).map(|i| i / 3).collect::<Vec<_>>());
        for_each_chunk_mut(&mut data, 0, &|_, _| panic!("no units of size 0"));
    }
}
