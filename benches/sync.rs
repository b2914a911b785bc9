//! Sync at scale: an emulated account of 10,000 users, 1,000 groups and 2,000 vaults. Reports
//! the whole `sync` and, separately, listing the vaults and opening their 2,000 keys (the
//! RSA-OAEP hot path) on every core. Each sample signs in afresh so no key is cached.

use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use opadmin_emulator::{Emulator, EmulatorConfig};

mod support;
use support::{large_account, owner, time_first_syncs};

fn sync_at_scale(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let started = Instant::now();
    let emu = rt
        .block_on(Emulator::start(EmulatorConfig::default(), large_account()))
        .expect("emulator");
    eprintln!(
        "emulator account of 10000 users, 1000 groups, 2000 vaults built and serving in {:?}",
        started.elapsed()
    );

    let mut group = c.benchmark_group("sync_10k_users_1k_groups_2k_vaults");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(40));
    group.bench_function("sync", |b| {
        b.iter_custom(|iters| {
            time_first_syncs(
                iters,
                || rt.block_on(owner(&emu, None)),
                |a| rt.block_on(a.sync()).expect("sync"),
            )
        })
    });
    group.bench_function("list_and_open_2000_vault_keys", |b| {
        b.iter_custom(|iters| {
            let mut total = Duration::ZERO;
            for _ in 0..iters {
                let a = rt.block_on(owner(&emu, None));
                let t = Instant::now();
                let n = rt.block_on(a.open_vault_keys()).expect("keys");
                total += t.elapsed();
                assert_eq!(n, 2000);
            }
            total
        })
    });
    group.finish();
}

fn emulator_build(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let mut group = c.benchmark_group("emulator");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(30));
    group.bench_function("build_10k_users_1k_groups_2k_vaults", |b| {
        b.iter(|| {
            let emu = rt
                .block_on(Emulator::start(EmulatorConfig::default(), large_account()))
                .expect("emulator");
            rt.block_on(emu.shutdown());
        })
    });
    group.finish();
}

criterion_group!(benches, sync_at_scale, emulator_build);
criterion_main!(benches);
