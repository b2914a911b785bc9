//! What the bounded body reader costs on the largest routine answer, the 2,000-vault listing.
//!
//! * `answer_body/unbounded_bytes` and `answer_body/bounded_read_capped` read the same body
//!   over loopback: the exact bytes of an encrypted 2,000-vault listing (the emulator's
//!   plaintext, sealed in a session envelope), served by a minimal keep-alive HTTP server. The
//!   first reads it whole with `reqwest::Response::bytes` (what the transport did before), the
//!   second with `opadmin_api::http::read_capped` and the default 64 MiB cap (what it does now).
//! * `vault_listing/sdk_2000_vaults` is the whole listing through the SDK (signed request,
//!   bounded read, decryption, parsing), for scale: the reader's cost is to be read against it.

use std::time::Duration;

use criterion::{Criterion, criterion_group, criterion_main};
use opadmin_api::auth::{Credentials, SignInOptions, sign_in};
use opadmin_api::endpoints::VAULTS;
use opadmin_api::http::{DEFAULT_MAX_ANSWER_BYTES, read_capped};
use opadmin_api::transport::Request;
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::kdf::KdfLimits;
use opadmin_emulator::{AccountBuilder, DEFAULT_OWNER_EMAIL, Emulator, EmulatorConfig};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

/// Serves `body` to every GET on a keep-alive connection; returns the address.
async fn serve(body: Vec<u8>) -> std::net::SocketAddr {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let head = format!(
        "HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n",
        body.len()
    );
    let answer: std::sync::Arc<Vec<u8>> = std::sync::Arc::new([head.as_bytes(), &body].concat());
    tokio::spawn(async move {
        loop {
            let Ok((mut socket, _)) = listener.accept().await else {
                return;
            };
            let answer = answer.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 8192];
                let mut seen = Vec::new();
                loop {
                    let Ok(n) = socket.read(&mut buf).await else {
                        return;
                    };
                    if n == 0 {
                        return;
                    }
                    seen.extend_from_slice(&buf[..n]);
                    while let Some(end) = seen.windows(4).position(|w| w == b"\r\n\r\n") {
                        seen.drain(..end + 4);
                        if socket.write_all(&answer).await.is_err() {
                            return;
                        }
                    }
                }
            });
        }
    });
    addr
}

fn bounded_read(c: &mut Criterion) {
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let emu = rt
        .block_on(Emulator::start(
            EmulatorConfig::default(),
            AccountBuilder::new("Vaults")
                .iterations(100_000)
                .seed(11)
                .synthetic(100, 20, 2_000),
        ))
        .expect("emulator");
    let owner = emu.credentials(DEFAULT_OWNER_EMAIL).expect("owner").clone();
    let signed = rt
        .block_on(sign_in(
            Credentials::parse(
                emu.address(),
                &owner.email,
                owner.password.as_str(),
                &owner.secret_key,
            )
            .expect("credentials"),
            SignInOptions::default().with_kdf_limits(KdfLimits::default()),
        ))
        .expect("sign-in");
    let client = signed.client;

    // The listing's exact plaintext, sealed as the server seals it.
    let plaintext = rt
        .block_on(
            client
                .transport()
                .send(Request::new(VAULTS, &[]).query("attrs", "combined-access")),
        )
        .expect("listing");
    assert_eq!(plaintext.as_array().map(Vec::len), Some(2_000));
    let sealed = SymmetricKey::new("BENCHSESSION", [7u8; 32]).encrypt_json(&plaintext);
    let body = serde_json::to_vec(&sealed).expect("envelope");
    eprintln!(
        "2,000-vault listing: {} bytes of JSON, {} bytes as an envelope",
        serde_json::to_vec(&plaintext).unwrap().len(),
        body.len()
    );
    let addr = rt.block_on(serve(body.clone()));
    let url = format!("http://{addr}/api/v1/vaults");
    let http = reqwest::Client::new();

    let mut group = c.benchmark_group("answer_body");
    group
        .sample_size(60)
        .measurement_time(Duration::from_secs(10));
    group.bench_function("unbounded_bytes", |b| {
        b.iter(|| {
            rt.block_on(async {
                let r = http.get(&url).send().await.unwrap();
                let got = r.bytes().await.unwrap();
                assert_eq!(got.len(), body.len());
            })
        })
    });
    group.bench_function("bounded_read_capped", |b| {
        b.iter(|| {
            rt.block_on(async {
                let r = http.get(&url).send().await.unwrap();
                let got = read_capped(r, DEFAULT_MAX_ANSWER_BYTES).await.unwrap();
                assert_eq!(got.len(), body.len());
            })
        })
    });
    group.finish();

    let mut group = c.benchmark_group("vault_listing");
    group
        .sample_size(20)
        .measurement_time(Duration::from_secs(15));
    group.bench_function("sdk_2000_vaults", |b| {
        b.iter(|| {
            let vaults = rt.block_on(client.vaults().collect_all()).expect("vaults");
            assert_eq!(vaults.len(), 2_000);
        })
    });
    group.finish();
}

criterion_group!(benches, bounded_read);
criterion_main!(benches);
