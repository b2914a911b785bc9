//! What the sync benches share: the large emulated account and an owner signed in to it.

// Each bench uses part of this module.
#![allow(dead_code)]

use opadmin::Admin;
use opadmin_emulator::{AccountBuilder, DEFAULT_OWNER_EMAIL, RunningEmulator};

/// An account of 10,000 people, 1,000 groups and 2,000 vaults (seeded, so every run builds the
/// same one), at 100,000 password iterations so signing in again per sample stays cheap.
pub fn large_account() -> AccountBuilder {
    AccountBuilder::new("Large")
        .iterations(100_000)
        .seed(7)
        .synthetic(10_000, 1_000, 2_000)
}

/// The owner signed in, with the `Admin`'s ceiling on requests in flight when given.
pub async fn owner(emu: &RunningEmulator, ceiling: Option<usize>) -> Admin {
    let c = emu.credentials(DEFAULT_OWNER_EMAIL).expect("owner");
    let builder =
        Admin::builder()
            .address(emu.address())
            .credentials(&c.email, &c.password, &c.secret_key);
    match ceiling {
        Some(n) => builder.concurrency(n),
        None => builder,
    }
    .build()
    .await
    .expect("sign-in")
}

/// Times `iters` first syncs of the large account, each by an `Admin` from `sign_in` (signing in
/// is not timed), and checks each snapshot has every vault.
pub fn time_first_syncs(
    iters: u64,
    mut sign_in: impl FnMut() -> Admin,
    mut sync: impl FnMut(&Admin) -> opadmin::Snapshot,
) -> std::time::Duration {
    let mut total = std::time::Duration::ZERO;
    for _ in 0..iters {
        let admin = sign_in();
        let started = std::time::Instant::now();
        let snapshot = sync(&admin);
        total += started.elapsed();
        assert_eq!(snapshot.vaults.len(), 2000);
        assert!(snapshot.users.len() >= 10_000);
    }
    total
}
