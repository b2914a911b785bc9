//! Sync at real-world latency, and password sign-in against its floor.
//!
//! * `sync_10k_loopback`, `sync_10k_latency_50ms` and `sync_10k_latency_50ms_limit_48`: an
//!   emulated account of 10,000 people, 1,000 groups and 2,000 vaults, on loopback, and with
//!   every answer held 50 ms while the emulator refuses (HTTP 429, `X-Rate-Limit-Retry-In: 1`)
//!   any request beyond 24 in flight (the `Admin` at its default ceiling of 32), or beyond 48
//!   (the `Admin`'s ceiling raised to 64 with `AdminBuilder::concurrency`). Against 24 at once
//!   the floor is about 3,008 × 50 ms / 24 plus the 1 s pause of the first 429 (docs/sync.md).
//!   `first_sync` is a new `Admin`'s first sync (its sign-in not timed); `second_sync` is a later
//!   sync of the same, unchanged account by an `Admin` that synced before (incremental).
//!   Before measuring, each prints the requests one first and one second sync send and how
//!   many were refused, as the emulator counted them. Memory is `benches/sync_memory.rs`'s.
//! * `sign_in`: a password sign-in at 650,000 iterations (the real count) against the emulator,
//!   beside its floor: two raw PBKDF2-HMAC-SHA256 runs of 650,000 iterations (the `pbkdf2`
//!   crate) and one SRP-4096 client step, the work no client can skip.
//!
//! `cargo bench --bench sync_latency`. Criterion's medians are what the README and CHANGELOG
//! report; compare ratios within one run (these machines are noisy).

use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{Criterion, criterion_group, criterion_main};
use opadmin::Admin;
use opadmin_crypto::secret::SecretBytes32;
use opadmin_crypto::srp;
use opadmin_emulator::{Emulator, EmulatorConfig, Faults, RateLimit, demo_account};

mod support;
use support::{large_account, owner, time_first_syncs};

fn sync_at_latency(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let ms50 = Some(Duration::from_millis(50));
    // (label, latency, the emulator's limit in flight, the Admin's ceiling)
    for (label, latency, server_limit, ceiling) in [
        ("loopback", None, None, None),
        ("latency_50ms", ms50, Some(24), None),
        ("latency_50ms_limit_48", ms50, Some(48), Some(64)),
    ] {
        let config = EmulatorConfig {
            faults: Faults {
                latency,
                rate_limit: server_limit.map(RateLimit::in_flight),
                ..Faults::default()
            },
            ..EmulatorConfig::default()
        };
        let emu = rt
            .block_on(Emulator::start(config, large_account()))
            .expect("emulator");

        // Requests per sync, counted by the emulator, once before measuring.
        let warm = rt.block_on(owner(&emu, ceiling));
        let (served, refused) = (emu.requests_served(), emu.rate_limited());
        let t = Instant::now();
        let first = rt.block_on(warm.sync()).expect("first sync");
        let first_time = t.elapsed();
        let first_requests = emu.requests_served() - served;
        let first_refused = emu.rate_limited() - refused;
        let (served, refused) = (emu.requests_served(), emu.rate_limited());
        let t = Instant::now();
        let second = rt.block_on(warm.sync()).expect("second sync");
        let second_time = t.elapsed();
        let second_requests = emu.requests_served() - served;
        let second_refused = emu.rate_limited() - refused;
        assert_eq!(first.vaults.len(), 2000);
        assert_eq!(second.vaults, first.vaults);
        eprintln!(
            "{label}: first sync {first_requests} requests ({first_refused} refused with 429) in {first_time:?}; \
             second sync {second_requests} requests ({second_refused} refused) in {second_time:?}; \
             vaults read again {}",
            second.changes.as_ref().map_or(0, |c| c.vaults_read),
        );

        let mut group = c.benchmark_group(format!("sync_10k_{label}"));
        group
            .sample_size(10)
            .measurement_time(Duration::from_secs(20));
        group.bench_function("first_sync", |b| {
            b.iter_custom(|iters| {
                time_first_syncs(
                    iters,
                    || rt.block_on(owner(&emu, ceiling)),
                    |a| rt.block_on(a.sync()).expect("sync"),
                )
            })
        });
        group.bench_function("second_sync", |b| {
            b.iter_custom(|iters| {
                let mut total = Duration::ZERO;
                for _ in 0..iters {
                    let t = Instant::now();
                    let snap = rt.block_on(warm.sync()).expect("sync");
                    total += t.elapsed();
                    assert_eq!(snap.vaults.len(), 2000);
                }
                total
            })
        });
        group.finish();
    }
}

fn sign_in_against_floor(c: &mut Criterion) {
    const ITERATIONS: u32 = 650_000;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let emu = rt
        .block_on(Emulator::start(
            EmulatorConfig::default(),
            demo_account().iterations(ITERATIONS),
        ))
        .expect("emulator");
    let credentials = emu.owner().clone();
    let x = SecretBytes32::new([9u8; 32]);
    let server = srp::SrpServer::new(srp::SrpVersion::V2, &srp::verifier(&x), "SESSION");
    let b_hex = server.public_hex();

    let mut group = c.benchmark_group("sign_in");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("password_sign_in_650000", |b| {
        b.iter(|| {
            rt.block_on(
                Admin::builder()
                    .address(emu.address())
                    .credentials(
                        &credentials.email,
                        &credentials.password,
                        &credentials.secret_key,
                    )
                    .build(),
            )
            .expect("sign-in")
        })
    });
    group.bench_function("floor_two_pbkdf2_650000_and_srp", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            for salt in [[7u8; 32], [8u8; 32]] {
                pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                    black_box(b"correct horse battery staple"),
                    black_box(&salt),
                    ITERATIONS,
                    &mut out,
                );
            }
            let client = srp::SrpClient::generate();
            let session = client.v2_session(
                &x,
                black_box(&b_hex),
                &[1u8; 16],
                "RTN9SA",
                "ops@example.com",
            );
            (out, session.is_ok())
        })
    });
    group.finish();
}

criterion_group!(benches, sync_at_latency, sign_in_against_floor);
criterion_main!(benches);
