//! Memory of a sync of 10,000 people, 1,000 groups and 2,000 vaults: the most the client holds
//! at once on the heap during a first sync, above what it held before it started.
//!
//! The emulator runs in this process too, on a runtime of its own; a counting allocator counts
//! only what the client's threads (its runtime's workers and blocking threads, and the thread
//! that waits on it) allocate and free, so the emulator's own memory is left out. The figure
//! printed is the median over the runs of the peak heap; criterion times the same sync.
//!
//! The process's peak RSS of a whole CLI sync (`opadmin sync --part account` against the
//! emulator binary in another process, as docs/sync.md describes) is measured from outside with
//! `/usr/bin/time -f %M`; the README gives both.
//!
//! `cargo bench --bench sync_memory`.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opadmin_emulator::{Emulator, EmulatorConfig};

mod support;
use support::{large_account, owner, time_first_syncs};

thread_local! {
    /// Whether this thread's allocations are the client's.
    static COUNTED: Cell<bool> = const { Cell::new(false) };
}

/// Bytes the client's threads hold now, and the most they held since the last reset.
static CURRENT: AtomicIsize = AtomicIsize::new(0);
static PEAK: AtomicIsize = AtomicIsize::new(0);

/// The system allocator, counting the client's threads.
struct Counting;

fn counted() -> bool {
    COUNTED.try_with(Cell::get).unwrap_or(false)
}

fn grow(bytes: usize) {
    let bytes = isize::try_from(bytes).unwrap_or(isize::MAX);
    let now = CURRENT.fetch_add(bytes, Ordering::Relaxed) + bytes;
    PEAK.fetch_max(now, Ordering::Relaxed);
}

fn shrink(bytes: usize) {
    CURRENT.fetch_sub(
        isize::try_from(bytes).unwrap_or(isize::MAX),
        Ordering::Relaxed,
    );
}

// SAFETY: every call is passed to the system allocator unchanged; only counters are added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: the caller's contract is the system allocator's.
        let p = unsafe { System.alloc(layout) };
        if !p.is_null() && counted() {
            grow(layout.size());
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        if counted() {
            shrink(layout.size());
        }
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.alloc_zeroed(layout) };
        if !p.is_null() && counted() {
            grow(layout.size());
        }
        p
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: as above.
        let p = unsafe { System.realloc(ptr, layout, new_size) };
        if !p.is_null() && counted() {
            shrink(layout.size());
            grow(new_size);
        }
        p
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

/// Runs `f` with this thread counted, and returns its result with the peak heap the client
/// held during it and what it still holds after it (its result included), both above what it
/// held when it started, in bytes.
fn peak_during<T>(f: impl FnOnce() -> T) -> (T, usize, usize) {
    COUNTED.with(|c| c.set(true));
    let start = CURRENT.load(Ordering::Relaxed);
    PEAK.store(start, Ordering::Relaxed);
    let out = f();
    let peak = PEAK.load(Ordering::Relaxed) - start;
    let held = CURRENT.load(Ordering::Relaxed) - start;
    COUNTED.with(|c| c.set(false));
    let bytes = |n: isize| usize::try_from(n).unwrap_or(0);
    (out, bytes(peak), bytes(held))
}

fn sync_memory(c: &mut Criterion) {
    let emulator_rt = tokio::runtime::Runtime::new().expect("emulator runtime");
    let client_rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .on_thread_start(|| COUNTED.with(|c| c.set(true)))
        .build()
        .expect("client runtime");
    let emu = emulator_rt
        .block_on(Emulator::start(EmulatorConfig::default(), large_account()))
        .expect("emulator");

    let (mut peaks, mut helds) = (Vec::new(), Vec::new());
    let mut group = c.benchmark_group("sync_memory_10k");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(20));
    group.bench_function("first_sync", |b| {
        b.iter_custom(|iters| {
            time_first_syncs(
                iters,
                || client_rt.block_on(owner(&emu, None)),
                |admin| {
                    let (snapshot, peak, held) =
                        peak_during(|| client_rt.block_on(admin.sync()).expect("sync"));
                    peaks.push(peak);
                    helds.push(held);
                    snapshot
                },
            )
        })
    });
    group.finish();
    peaks.sort_unstable();
    helds.sort_unstable();
    let mib = |b: usize| b as f64 / (1024.0 * 1024.0);
    eprintln!(
        "sync_memory_10k: the client's peak heap during a first sync, over {} runs: \
         median {:.1} MiB (min {:.1}, max {:.1}); held after it (the snapshot and what the \
         Admin keeps for the next sync): median {:.1} MiB",
        peaks.len(),
        mib(peaks[peaks.len() / 2]),
        mib(peaks[0]),
        mib(peaks[peaks.len() - 1]),
        mib(helds[helds.len() / 2]),
    );
}

criterion_group!(benches, sync_memory);
criterion_main!(benches);
