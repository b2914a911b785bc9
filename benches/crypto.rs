//! Sign-in and sync crypto: AUK derivation at the real 650000 iterations (beside the `pbkdf2`
//! crate's raw PBKDF2-HMAC-SHA256 at the same count, to show our overhead), one SRP v2 client
//! step, RSA-OAEP unwrap of a vault key, and a 1 KiB envelope round trip.

use std::hint::black_box;
use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::kdf::{self, KdfParams};
use opadmin_crypto::rsa::{RsaOaep, RsaPrivateKey};
use opadmin_crypto::secret::SecretBytes32;
use opadmin_crypto::secret_key::SecretKey;
use opadmin_crypto::srp;

const ITERATIONS: u32 = 650_000;

fn derivation(c: &mut Criterion) {
    let sk = SecretKey::parse("A3-RTN9SA-DY9445Y5FF96X6E7B5GPFA95R9").expect("valid key");
    let params = KdfParams::from_wire("PBES2g-HS256", "i2enf0xq-XPKCFFf5UZqNQ", ITERATIONS)
        .expect("valid params");
    let password = "correct horse battery staple".into();
    let mut group = c.benchmark_group("kdf");
    group
        .sample_size(10)
        .measurement_time(Duration::from_secs(12));
    group.bench_function("auk_650000", |b| {
        b.iter(|| kdf::derive_auk(black_box(&password), "ops@example.com", &sk, &params))
    });
    group.bench_function("raw_pbkdf2_sha256_650000", |b| {
        b.iter(|| {
            let mut out = [0u8; 32];
            pbkdf2::pbkdf2_hmac::<sha2::Sha256>(
                black_box(b"correct horse battery staple"),
                black_box(&[7u8; 32]),
                ITERATIONS,
                &mut out,
            );
            out
        })
    });
    group.finish();
}

fn srp_step(c: &mut Criterion) {
    let x = SecretBytes32::new([9u8; 32]);
    let server = srp::SrpServer::new(srp::SrpVersion::V2, &srp::verifier(&x), "SESSION");
    let b_hex = server.public_hex();
    let mut group = c.benchmark_group("srp");
    group.sample_size(20);
    group.bench_function("v2_client_step", |b| {
        b.iter(|| {
            let client = srp::SrpClient::generate();
            client
                .v2_session(
                    &x,
                    black_box(&b_hex),
                    &[1u8; 16],
                    "RTN9SA",
                    "ops@example.com",
                )
                .expect("valid B")
        })
    });
    group.finish();
}

fn rsa_unwrap(c: &mut Criterion) {
    let key = RsaPrivateKey::generate("keyset", RsaOaep::Sha1).expect("keygen");
    let vault_key = SymmetricKey::generate("vaultkey");
    let wrapped = key.public_key().wrap_key(&vault_key).expect("wrap");
    c.bench_function("rsa_oaep_sha1_unwrap_vault_key", |b| {
        b.iter(|| key.unwrap_key(black_box(&wrapped)).expect("unwrap"))
    });
}

fn envelope(c: &mut Criterion) {
    let key = SymmetricKey::generate("SESSION");
    let plain = vec![0x5au8; 1024];
    c.bench_function("envelope_encrypt_decrypt_1k", |b| {
        b.iter(|| {
            let env = key.encrypt(black_box(&plain));
            key.decrypt(&env).expect("decrypt")
        })
    });
}

criterion_group!(benches, derivation, srp_step, rsa_unwrap, envelope);
criterion_main!(benches);
