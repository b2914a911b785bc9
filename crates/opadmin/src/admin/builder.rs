//! [`AdminBuilder`]: the sign-in settings, and signing in.

use std::sync::Arc;
use std::time::Duration;

use opadmin_api::ApiError;
use opadmin_api::auth::{self, Credentials, SignInOptions};
use opadmin_api::concurrency::Concurrency;
use opadmin_api::models;
use opadmin_api::service_account::ServiceAccountToken;
use opadmin_api::transport::{Transport, TransportConfig};
use opadmin_crypto::kdf::{KdfLimits, LOWEST_MIN_ITERATIONS, MAX_ITERATIONS};
use opadmin_crypto::secret::Password;
use opadmin_crypto::srp::SrpVersion;

use super::{Admin, DEFAULT_CONCURRENCY, Inner};
use crate::RememberToken;
use crate::error::{Error, Result};
use crate::keys::KeyStore;
use crate::model::{SkipReason, SkippedItem, SkippedKind};

/// Builds an [`Admin`]: address, email, account password and Secret Key (or a service-account
/// token), plus optional second factor, stored device identity and transport settings.
#[derive(Default)]
pub struct AdminBuilder {
    address: Option<String>,
    email: Option<String>,
    password: Option<Password>,
    secret_key: Option<zeroize::Zeroizing<String>>,
    service_account_token: Option<zeroize::Zeroizing<String>>,
    options: SignInOptions,
    transport: TransportConfig,
    concurrency: Option<usize>,
    min_kdf_iterations: Option<u32>,
}

impl std::fmt::Debug for AdminBuilder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AdminBuilder")
            .field("address", &self.address)
            .field("email", &self.email)
            .field("password", &self.password.as_ref().map(|_| "<redacted>"))
            .field(
                "secret_key",
                &self.secret_key.as_ref().map(|_| "<redacted>"),
            )
            .field("service_account", &self.service_account_token.is_some())
            .field("options", &self.options)
            .field("min_kdf_iterations", &self.min_kdf_iterations)
            .finish_non_exhaustive()
    }
}

impl AdminBuilder {
    /// Signs in as a service account with its token (`ops_…`) instead of email, password and
    /// Secret Key. The token names the account's address; [`address`](Self::address), when set,
    /// overrides it (for a local emulator: `http://127.0.0.1:PORT`). The token is kept zeroized
    /// and never shown. A service account may list vaults, read their accessors, read the groups
    /// it sees and grant or revoke groups' access to the vaults it manages; people and group
    /// membership are [`Error::NotPermittedForServiceAccount`].
    pub fn service_account_token(mut self, token: impl Into<String>) -> Self {
        self.service_account_token = Some(zeroize::Zeroizing::new(token.into()));
        self
    }

    /// The sign-in address: `my.1password.com`, `acme.1password.eu`, or `http://127.0.0.1:PORT`
    /// for a local emulator (plain HTTP is accepted only on loopback).
    pub fn address(mut self, address: impl Into<String>) -> Self {
        self.address = Some(address.into());
        self
    }

    /// The administrator's email.
    pub fn email(mut self, email: impl Into<String>) -> Self {
        self.email = Some(email.into());
        self
    }

    /// The administrator's account password (held zeroized; `Debug` never shows it).
    pub fn password(mut self, password: impl Into<String>) -> Self {
        self.password = Some(Password::new(password));
        self
    }

    /// The administrator's Secret Key, as printed (`A3-...`; case, spaces and dashes are fine).
    /// Held zeroized; `Debug` never shows it.
    pub fn secret_key(mut self, secret_key: impl Into<String>) -> Self {
        self.secret_key = Some(zeroize::Zeroizing::new(secret_key.into()));
        self
    }

    /// Email, password and Secret Key at once.
    pub fn credentials(
        self,
        email: impl Into<String>,
        password: impl Into<String>,
        secret_key: impl Into<String>,
    ) -> Self {
        self.email(email).password(password).secret_key(secret_key)
    }

    /// Answers TOTP challenges from this base32 secret.
    pub fn totp_secret(mut self, secret: impl Into<String>) -> Self {
        self.options = self.options.with_totp_secret(secret.into());
        self
    }

    /// Answers second-factor challenges with codes from a callback (`None` gives up).
    pub fn mfa_callback<F>(mut self, f: F) -> Self
    where
        F: Fn(&models::MfaChallenge) -> Option<String> + Send + Sync + 'static,
    {
        self.options = self.options.with_mfa_code_fn(f);
        self
    }

    /// Signs in as a device stored from an earlier run ([`Admin::device_uuid`]).
    pub fn device_uuid(mut self, uuid: impl Into<String>) -> Self {
        self.options = self.options.with_device_uuid(uuid);
        self
    }

    /// Offers a remember-this-device token stored from an earlier run ([`Admin::remember_token`]).
    pub fn remember_token(mut self, token: impl Into<RememberToken>) -> Self {
        self.options = self.options.with_dsecret(token.into());
        self
    }

    /// Lowers the smallest PBKDF2 iteration count accepted from the server (default 100,000;
    /// the largest accepted is 10,000,000). **Unsafe for real accounts**: a server, or anything
    /// between it and you, that hands out a low count makes the password cheaper to guess from
    /// what it learns. Meant for the emulator and test servers, which use low counts to keep
    /// tests fast. Values below 10,000 (which 1Password's own client refuses) make
    /// [`build`](Self::build) fail with [`Error::InvalidInput`].
    pub fn min_kdf_iterations(mut self, iterations: u32) -> Self {
        self.min_kdf_iterations = Some(iterations);
        self
    }

    /// The largest answer body read, in bytes (default 64 MiB); a larger answer is
    /// [`Error::AnswerTooLarge`], with memory staying near the cap.
    pub fn max_answer_bytes(mut self, bytes: usize) -> Self {
        self.transport = self.transport.with_max_answer_bytes(bytes);
        self
    }

    /// Uses SRP v1 instead of v2.
    pub fn srp_v1(mut self) -> Self {
        self.options = self.options.with_srp(SrpVersion::V1);
        self
    }

    /// Per-request timeout.
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.transport = self.transport.with_timeout(timeout);
        self
    }

    /// Full transport settings (retries, client descriptor, insecure HTTP).
    pub fn transport(mut self, transport: TransportConfig) -> Self {
        self.transport = transport;
        self
    }

    /// The most requests in flight at once, for everything this `Admin` does together (sync,
    /// bulk actions, concurrent calls from several tasks): the ceiling of the transport's one
    /// adaptive limit, which starts at 8 (or `n` when lower), grows while answers are healthy
    /// and is cut on 429 or overload. Default [`DEFAULT_CONCURRENCY`] (32). `1` sends one
    /// request at a time.
    pub fn concurrency(mut self, n: usize) -> Self {
        self.concurrency = Some(n.max(1));
        self
    }

    /// Signs in.
    pub async fn build(mut self) -> Result<Admin> {
        // One limit for the transport and the facade's fan-out: `concurrency(n)` sets its
        // ceiling; otherwise the transport settings' limit (by default 8 rising to 32) stands.
        if let Some(ceiling) = self.concurrency {
            let initial = Concurrency::default().initial.min(ceiling);
            self.transport = self
                .transport
                .with_concurrency(Concurrency::new(initial, ceiling));
        }
        self.concurrency = Some(self.transport.concurrency.ceiling);
        if let Some(min) = self.min_kdf_iterations {
            let limits = KdfLimits::default().with_min_iterations(min).map_err(|_| {
                Error::InvalidInput(format!(
                    "min_kdf_iterations({min}) is outside {LOWEST_MIN_ITERATIONS}..={MAX_ITERATIONS}"
                ))
            })?;
            self.options = self.options.with_kdf_limits(limits);
        }
        if let Some(token) = self.service_account_token.take() {
            return self.build_service_account(&token).await;
        }
        let missing =
            |what: &str| Error::InvalidInput(format!("{what} is required: set it on the builder"));
        let address = self.address.ok_or_else(|| missing("the sign-in address"))?;
        let email = self.email.ok_or_else(|| missing("the email"))?;
        let password = self
            .password
            .ok_or_else(|| missing("the account password"))?;
        let secret_key = self.secret_key.ok_or_else(|| missing("the Secret Key"))?;
        let credentials = Credentials::parse(address, email, password, secret_key.as_str())
            .map_err(|e| match e {
                ApiError::Crypto(c) => Error::InvalidInput(c.to_string()),
                other => Error::from(other),
            })?;
        let options = self.options.with_transport(self.transport);
        let signed = auth::sign_in(credentials, options).await?;
        Ok(Admin {
            inner: Arc::new(Inner {
                client: signed.client,
                keys: KeyStore::new(signed.keyring),
                me: signed.user_uuid,
                device_uuid: signed.device_uuid,
                remember_token: signed.new_dsecret,
                concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
                service_account: false,
                skipped_keysets: skipped_keysets(&signed.unopened_keysets),
                sync_cache: std::sync::Mutex::default(),
            }),
        })
    }

    async fn build_service_account(self, token: &str) -> Result<Admin> {
        if self.email.is_some() || self.password.is_some() || self.secret_key.is_some() {
            return Err(Error::InvalidInput(
                "give either a service-account token or an email, password and Secret Key, not both"
                    .into(),
            ));
        }
        let token = ServiceAccountToken::parse(token)?;
        let address = self
            .address
            .unwrap_or_else(|| token.sign_in_address().to_owned());
        let transport = Transport::new(&address, self.transport.clone())?;
        let options = self.options.with_transport(self.transport);
        let signed =
            auth::sign_in_service_account_with_transport(transport, token, options).await?;
        Ok(Admin {
            inner: Arc::new(Inner {
                client: signed.client,
                keys: KeyStore::new(signed.keyring),
                me: signed.user_uuid,
                device_uuid: signed.device_uuid,
                remember_token: None,
                concurrency: self.concurrency.unwrap_or(DEFAULT_CONCURRENCY),
                service_account: true,
                skipped_keysets: skipped_keysets(&signed.unopened_keysets),
                sync_cache: std::sync::Mutex::default(),
            }),
        })
    }
}

/// The keysets that did not open at sign-in, as skipped items.
fn skipped_keysets(unopened: &[(String, opadmin_crypto::CryptoError)]) -> Vec<SkippedItem> {
    unopened
        .iter()
        .map(|(uuid, e)| {
            SkippedItem::new(
                SkippedKind::Keyset,
                uuid.as_str(),
                None,
                SkipReason::KeyDoesNotOpen,
                &Error::Crypto(e.clone()),
            )
        })
        .collect()
}
