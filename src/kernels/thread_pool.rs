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

/// Calls `f` on ranges that together cover `0..len`, about four per thread (a thread that starts
/// late takes fewer), spread over the pool as [`for_each_part`] does. The ranges are cut the same
/// way on one thread, so single-threaded builds and native tests run the split code too.
pub fn for_each_range(len: usize, f: &(dyn Fn(Range<usize>) + Sync)) {
    let step = len.div_ceil(4 * threads()).max(1);
    for_each_part(len.div_ceil(step), &|part| {
        f(part * step..((part + 1) * step).min(len))
    });
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
    const SPINS: usize = 200_000;

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
