//! Sign-in (docs/protocol.md section 3): credentials, options, and the flow that turns them into a
//! signed-in [`Client`] and the user's [`Keyring`].
//!
//! The flow, exactly:
//!
//! 1. `POST /api/v3/auth/start {email, skFormat, skid, deviceUuid}`; on
//!    `device-not-registered` register the device (`POST /api/v1/device`, plain JSON, session
//!    header only) and start again; on `device-deleted` reauthorize it and start again. When the
//!    answer names the Secret Key (`accountKeyFormat`/`accountKeyUuid`), it must be the one
//!    given, else [`ApiError::WrongSecretKey`].
//! 2. SRP `x` by 2SKD from `userAuth`.
//! 3. v2 (default): `POST /api/v2/auth {userA}` → `{userB}`; `POST /api/v2/auth/confirm-key
//!    {clientVerifyHash}` → `{serverVerifyHash}`, which must be the server proof M2 (else
//!    [`ApiError::Tampered`]); then encrypted and MAC-signed `POST /api/v2/auth/complete
//!    {client, device}`.
//!    v1: `POST /api/v1/auth {sessionID, userA}` → `{sessionID, userB}` (the echoed id must
//!    match); then encrypted and MAC-signed `POST /api/v2/auth/verify {sessionID,
//!    clientVerifyHash, client, device}`, whose `serverVerifyHash`, when present, must match.
//! 4. When the answer carries `mfa`: answer with the stored remember-this-device token
//!    (`dsecret`) when offered, else a TOTP code (from the configured secret or the code
//!    callback) through `POST /api/v1/auth/mfa`. A `dsecret` the server hands back is returned
//!    in [`SignedIn::new_dsecret`] for the caller to store.
//! 5. `GET /api/v2/account/keysets`; the AUK by 2SKD from the primary keyset's `encSymKey`
//!    (`alg`, `p2s`, `p2c`); [`Keyring::unlock`].
//!
//! Errors: any 401 during sign-in (a wrong password or Secret Key, or a rejected MFA code), and
//! the server's `400 {}` for an unknown account, are [`ApiError::Authentication`], which does
//! not say which. HTTP 435 / `user_suspended` is [`ApiError::UserSuspended`], 436 /
//! `user_deleted` [`ApiError::UserDeleted`]. No sign-in error is retried except for transient
//! transport failures of idempotent steps.
//!
//! ```no_run
//! use opadmin_api::auth::{sign_in, Credentials, SignInOptions};
//!
//! # async fn demo() -> opadmin_api::Result<()> {
//! let credentials = Credentials::parse(
//!     "my.1password.com",
//!     "admin@example.com",
//!     "correct horse battery staple",
//!     "A3-ASWWYB-798JRY-LJVD4-23DC2-86TVM-H43EB",
//! )?;
//! let options = SignInOptions::default()
//!     .with_device_uuid("rz64r4uhyvgew672nm4ncaqonq") // stored from the first run
//!     .with_totp_secret("JBSWY3DPEHPK3PXP");
//! let signed_in = sign_in(credentials, options).await?;
//! let account = signed_in.client.account().await?;
//! println!("{} users", account.users.map_or(0, |u| u.len()));
//! # Ok(()) }
//! ```

use std::fmt;
use std::sync::{Arc, Mutex};
use std::time::{SystemTime, UNIX_EPOCH};

use async_trait::async_trait;
use opadmin_crypto::encoding::{UuidCase, generate_uuid};
use opadmin_crypto::envelope::SymmetricKey;
use opadmin_crypto::kdf::{KdfLimits, KdfParams, derive_auk, derive_srp_x, normalize_email};
use opadmin_crypto::keyset::{Keyring, KeysetCiphertext};
use opadmin_crypto::secret::{Password, SecretBytes32};
use opadmin_crypto::secret_key::SecretKey;
use opadmin_crypto::srp::{SrpClient, SrpVersion, v1_client_verify_hash, v1_server_verify_hash};
use serde::de::DeserializeOwned;
use zeroize::Zeroizing;

use crate::client::Client;
use crate::endpoints::{
    AUTH_MFA, AUTH_START, AUTH_V1, AUTH_V1_VERIFY, AUTH_V2, AUTH_V2_COMPLETE, AUTH_V2_CONFIRM_KEY,
    DEVICE_REAUTHORIZE, DEVICE_REGISTER, KEYSETS,
};
use crate::error::{ApiError, Result};
use crate::models::KeysetsResponse;
use crate::models::{
    CompleteRequest, ConfirmKeyRequest, ConfirmKeyResponse, Device, MfaChallenge, MfaCode,
    MfaDsecret, MfaSubmitRequest, MfaSubmitResponse, SrpV1Request, SrpV1Response, SrpV2Request,
    SrpV2Response, StartAuthRequest, StartAuthResponse, StartAuthStatus, VerifyRequest,
    VerifyResponse,
};
use crate::service_account::ServiceAccountToken;
use crate::transport::{
    Reauthenticate, Request, Session, Transport, TransportConfig, client_parts,
};
use crate::types::{AccountId, UserId};

/// What signs a user in: the account's address, the email, the account password and the
/// Secret Key. `Debug` shows the address and email only (the Secret Key masked).
#[derive(Clone)]
pub struct Credentials {
    /// The sign-in address: `my.1password.com`, `https://acme.1password.eu`, or
    /// `http://127.0.0.1:PORT` for a local emulator.
    pub address: String,
    /// The user's email.
    pub email: String,
    /// The account password.
    pub password: Password,
    /// The Secret Key.
    pub secret_key: SecretKey,
}

impl Credentials {
    /// Credentials from their parts.
    pub fn new(
        address: impl Into<String>,
        email: impl Into<String>,
        password: impl Into<Password>,
        secret_key: SecretKey,
    ) -> Self {
        Self {
            address: address.into(),
            email: email.into(),
            password: password.into(),
            secret_key,
        }
    }

    /// Credentials with the Secret Key as typed (`A3-XXXXXX-…`, any case, dashes optional).
    pub fn parse(
        address: impl Into<String>,
        email: impl Into<String>,
        password: impl Into<Password>,
        secret_key: &str,
    ) -> Result<Self> {
        let secret_key = SecretKey::parse(secret_key)?;
        Ok(Self::new(address, email, password, secret_key))
    }
}

impl fmt::Debug for Credentials {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credentials")
            .field("address", &self.address)
            .field("email", &self.email)
            .field("password", &"<redacted>")
            .field("secret_key", &self.secret_key.to_masked())
            .finish()
    }
}

macro_rules! secret_string {
    ($(#[$meta:meta])* $name:ident) => {
        $(#[$meta])*
        #[derive(Clone, PartialEq, Eq)]
        pub struct $name(Zeroizing<String>);

        impl $name {
            /// Wraps the value.
            pub fn new(value: impl Into<String>) -> Self {
                Self(Zeroizing::new(value.into()))
            }

            /// The value. Handle with care: store it as a secret.
            pub fn expose_secret(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Debug for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                write!(f, "{}(<redacted>)", stringify!($name))
            }
        }

        impl From<&str> for $name {
            fn from(value: &str) -> Self {
                Self::new(value)
            }
        }

        impl From<String> for $name {
            fn from(value: String) -> Self {
                Self::new(value)
            }
        }

        /// Writes the secret itself: only for the wire, where the protocol carries it.
        impl serde::Serialize for $name {
            fn serialize<S: serde::Serializer>(&self, serializer: S) -> std::result::Result<S::Ok, S::Error> {
                serializer.serialize_str(&self.0)
            }
        }

        impl<'de> serde::Deserialize<'de> for $name {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> std::result::Result<Self, D::Error> {
                String::deserialize(deserializer).map(Self::new)
            }
        }
    };
}

secret_string!(
    /// A remember-this-device token (`dsecret`) that the server hands out after a second factor
    /// and accepts instead of one next time. Zeroized on drop; `Debug` redacts.
    DeviceSecret
);
secret_string!(
    /// A TOTP secret in base32, as an authenticator app is given it. Zeroized on drop; `Debug`
    /// redacts.
    TotpSecret
);

/// Supplies a one-time code when the account asks for a second factor (for a code typed by a
/// person, or fetched from a secrets store).
#[async_trait]
pub trait MfaCodeSource: Send + Sync {
    /// A TOTP code for this challenge, or `None` to give up (sign-in then fails with
    /// [`ApiError::MfaRequired`]).
    async fn totp_code(&self, challenge: &MfaChallenge) -> Result<Option<String>>;
}

struct FnCodeSource<F>(F);

#[async_trait]
impl<F> MfaCodeSource for FnCodeSource<F>
where
    F: Fn(&MfaChallenge) -> Option<String> + Send + Sync,
{
    async fn totp_code(&self, challenge: &MfaChallenge) -> Result<Option<String>> {
        Ok((self.0)(challenge))
    }
}

/// How to sign in: SRP flavour, device, second factor, transport.
#[derive(Clone)]
#[non_exhaustive]
pub struct SignInOptions {
    /// SRP flavour (v2 by default, docs/decisions.md, decision 1).
    pub srp: SrpVersion,
    /// The device uuid to sign in as (26 lower-case base32 characters). When `None`, a new one
    /// is generated: store [`SignedIn::device_uuid`] to be the same device next time.
    pub device_uuid: Option<String>,
    /// The device name registered with the account. Default `opadmin`.
    pub device_name: String,
    /// TOTP secret for accounts that enforce a second factor.
    pub totp_secret: Option<TotpSecret>,
    /// Code callback, used when no TOTP secret is set.
    pub mfa_code: Option<Arc<dyn MfaCodeSource>>,
    /// A stored remember-this-device token, tried before TOTP when the server accepts one.
    pub dsecret: Option<DeviceSecret>,
    /// Transport settings (client descriptor, timeouts, retries, insecure http).
    pub transport: TransportConfig,
    /// The range of server-supplied PBKDF2 iteration counts accepted before deriving SRP `x` or
    /// the Account Unlock Key (default 100,000 to 10,000,000).
    pub kdf_limits: KdfLimits,
}

impl Default for SignInOptions {
    fn default() -> Self {
        Self {
            srp: SrpVersion::V2,
            device_uuid: None,
            device_name: "opadmin".to_owned(),
            totp_secret: None,
            mfa_code: None,
            dsecret: None,
            transport: TransportConfig::default(),
            kdf_limits: KdfLimits::default(),
        }
    }
}

impl fmt::Debug for SignInOptions {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SignInOptions")
            .field("srp", &self.srp)
            .field("device_uuid", &self.device_uuid)
            .field("device_name", &self.device_name)
            .field("totp_secret", &self.totp_secret)
            .field("mfa_code", &self.mfa_code.as_ref().map(|_| "<callback>"))
            .field("dsecret", &self.dsecret)
            .field("transport", &self.transport)
            .field("kdf_limits", &self.kdf_limits)
            .finish()
    }
}

impl SignInOptions {
    /// Sets the accepted range of server-supplied PBKDF2 iteration counts. Lowering the floor is
    /// **unsafe for real accounts** and meant for test servers and the emulator; see
    /// [`KdfLimits::with_min_iterations`].
    pub fn with_kdf_limits(mut self, limits: KdfLimits) -> Self {
        self.kdf_limits = limits;
        self
    }

    /// Uses SRP v1 (`/api/v1/auth`, `/api/v2/auth/verify`) or v2.
    pub fn with_srp(mut self, version: SrpVersion) -> Self {
        self.srp = version;
        self
    }

    /// Signs in as this device (a uuid stored from an earlier sign-in).
    pub fn with_device_uuid(mut self, uuid: impl Into<String>) -> Self {
        self.device_uuid = Some(uuid.into());
        self
    }

    /// Sets the device name registered with the account.
    pub fn with_device_name(mut self, name: impl Into<String>) -> Self {
        self.device_name = name.into();
        self
    }

    /// Answers TOTP challenges with codes computed from this base32 secret.
    pub fn with_totp_secret(mut self, secret: impl Into<TotpSecret>) -> Self {
        self.totp_secret = Some(secret.into());
        self
    }

    /// Answers TOTP challenges with codes from a synchronous callback (`None` gives up).
    pub fn with_mfa_code_fn<F>(mut self, f: F) -> Self
    where
        F: Fn(&MfaChallenge) -> Option<String> + Send + Sync + 'static,
    {
        self.mfa_code = Some(Arc::new(FnCodeSource(f)));
        self
    }

    /// Answers TOTP challenges with codes from an asynchronous source.
    pub fn with_mfa_code_source(mut self, source: Arc<dyn MfaCodeSource>) -> Self {
        self.mfa_code = Some(source);
        self
    }

    /// Offers a stored remember-this-device token.
    pub fn with_dsecret(mut self, dsecret: impl Into<DeviceSecret>) -> Self {
        self.dsecret = Some(dsecret.into());
        self
    }

    /// Sets the transport settings.
    pub fn with_transport(mut self, transport: TransportConfig) -> Self {
        self.transport = transport;
        self
    }
}

/// The result of a sign-in.
#[derive(Debug)]
#[non_exhaustive]
pub struct SignedIn {
    /// The signed-in client: every resource call is a method on it.
    pub client: Client,
    /// Every keyset the user can open: the primary keyset and the keysets wrapped to it.
    pub keyring: Keyring,
    /// Keysets the server listed for the user that did not open (other than the primary one,
    /// without which sign-in fails), by uuid, with why.
    pub unopened_keysets: Vec<(String, opadmin_crypto::CryptoError)>,
    /// The account's uuid.
    pub account_uuid: AccountId,
    /// The signed-in user's uuid.
    pub user_uuid: UserId,
    /// The device uuid signed in as; store it to be the same device next time.
    pub device_uuid: String,
    /// A new remember-this-device token from the second factor, to store (as a secret) and
    /// offer next time with [`SignInOptions::with_dsecret`].
    pub new_dsecret: Option<DeviceSecret>,
}

/// Signs in: creates the transport for `credentials.address` and runs the flow described in
/// the [module documentation](self). The client keeps what it needs to sign in again when the
/// session expires.
pub async fn sign_in(credentials: Credentials, options: SignInOptions) -> Result<SignedIn> {
    let transport = Transport::new(&credentials.address, options.transport.clone())?;
    sign_in_with_transport(transport, credentials, options).await
}

/// Like [`sign_in`], over a transport made beforehand (its address is used, not
/// `credentials.address`).
pub async fn sign_in_with_transport(
    transport: Transport,
    credentials: Credentials,
    options: SignInOptions,
) -> Result<SignedIn> {
    let device_uuid = match &options.device_uuid {
        Some(uuid) => {
            check_device_uuid(uuid)?;
            uuid.clone()
        }
        None => generate_uuid(UuidCase::Lower),
    };
    sign_in_as(
        transport,
        Identity::Password(credentials),
        options,
        device_uuid,
    )
    .await
}

/// Signs in with a service-account token (`ops_…`, see
/// [`ServiceAccountToken`]) at the address the token
/// names (a bare host means HTTPS). The flow is the password sign-in's, except that step 2 and
/// the AUK of step 5 are not derived: the token carries `x` (`srpX`) and the AUK (`muk`). The
/// token's device is used ([`SignInOptions::device_uuid`] is ignored); service accounts have
/// no second factor.
///
/// A refused token is [`ApiError::ServiceAccountTokenRejected`].
pub async fn sign_in_service_account(
    token: ServiceAccountToken,
    options: SignInOptions,
) -> Result<SignedIn> {
    let transport = Transport::new(token.sign_in_address(), options.transport.clone())?;
    sign_in_service_account_with_transport(transport, token, options).await
}

/// Like [`sign_in_service_account`], over a transport made beforehand: its address is used,
/// not the token's `signInAddress` (for a local emulator, `http://127.0.0.1:PORT`).
pub async fn sign_in_service_account_with_transport(
    transport: Transport,
    token: ServiceAccountToken,
    options: SignInOptions,
) -> Result<SignedIn> {
    let device_uuid = token.device_uuid().to_owned();
    sign_in_as(
        transport,
        Identity::ServiceAccount(token),
        options,
        device_uuid,
    )
    .await
}

/// Who signs in, and how `x` and the AUK are had: by 2SKD from a password and Secret Key, or
/// straight from a service-account token. Everything else about signing in is shared.
enum Identity {
    Password(Credentials),
    ServiceAccount(ServiceAccountToken),
}

impl Identity {
    fn email(&self) -> &str {
        match self {
            Self::Password(c) => &c.email,
            Self::ServiceAccount(t) => t.email(),
        }
    }

    fn secret_key(&self) -> &SecretKey {
        match self {
            Self::Password(c) => &c.secret_key,
            Self::ServiceAccount(t) => t.secret_key(),
        }
    }

    /// Step 2: SRP `x` for the server's `userAuth`. A service account's `x` comes from its
    /// token, so nothing is derived and the server's parameters are not used.
    async fn srp_x(
        self: &Arc<Self>,
        method: &str,
        params: &KdfParams,
        limits: &KdfLimits,
    ) -> Result<SecretBytes32> {
        match &**self {
            Self::Password(_) => {
                check_kdf(limits, params)?;
                let (me, method, params) = (self.clone(), method.to_owned(), params.clone());
                blocking(move || {
                    let Self::Password(creds) = &*me else {
                        unreachable!("matched above")
                    };
                    Ok(derive_srp_x(
                        &creds.password,
                        &creds.email,
                        &creds.secret_key,
                        &method,
                        &params,
                    )?)
                })
                .await
            }
            Self::ServiceAccount(token) => Ok(token.srp_x().clone()),
        }
    }

    /// Step 5: the Account Unlock Key that opens the primary keyset.
    async fn auk(
        self: &Arc<Self>,
        primary: &KeysetCiphertext,
        limits: &KdfLimits,
    ) -> Result<SymmetricKey> {
        if let Self::ServiceAccount(token) = &**self {
            return Ok(token.muk().clone());
        }
        let enc = &primary.enc_sym_key;
        let (Some(alg), Some(p2s), Some(p2c)) = (enc.alg.as_deref(), enc.p2s.as_deref(), enc.p2c)
        else {
            return Err(ApiError::Protocol(
                "the primary keyset does not say how its key is derived (alg, p2s, p2c)".into(),
            ));
        };
        let params = KdfParams::from_wire(alg, p2s, p2c).map_err(|e| {
            ApiError::Protocol(format!(
                "the primary keyset's key-derivation parameters are unusable ({e})"
            ))
        })?;
        check_kdf(limits, &params)?;
        let me = self.clone();
        blocking(move || {
            let Self::Password(creds) = &*me else {
                unreachable!("returned above")
            };
            Ok(derive_auk(
                &creds.password,
                &creds.email,
                &creds.secret_key,
                &params,
            ))
        })
        .await
    }

    /// A service account's credentials are one token: "wrong email, password or Secret Key"
    /// reads as "the token was refused".
    fn sign_in_error(&self, error: ApiError) -> ApiError {
        match (self, error) {
            (Self::ServiceAccount(_), ApiError::Authentication | ApiError::WrongSecretKey) => {
                ApiError::ServiceAccountTokenRejected
            }
            (_, other) => other,
        }
    }
}

async fn sign_in_as(
    transport: Transport,
    identity: Identity,
    options: SignInOptions,
    device_uuid: String,
) -> Result<SignedIn> {
    let identity = Arc::new(identity);
    let routine = Arc::new(SignInRoutine {
        dsecret: Mutex::new(options.dsecret.clone()),
        proven: Mutex::new(None),
        identity: identity.clone(),
        options,
        device_uuid: device_uuid.clone(),
    });
    let established = routine
        .establish(&transport)
        .await
        .map_err(|e| identity.sign_in_error(e))?;
    transport.install_session(established.session);
    transport.set_reauthenticator(routine.clone());

    let account_uuid = AccountId::new(established.verify.account_uuid);
    let user_uuid = UserId::new(established.verify.user_uuid);
    let client = Client::new(
        transport,
        account_uuid.clone(),
        user_uuid.clone(),
        device_uuid.clone(),
    );
    let keysets = client
        .keysets()
        .await
        .map_err(|e| identity.sign_in_error(sign_in_error(e)))?;
    let primary = keysets.primary().ok_or_else(|| {
        ApiError::Protocol("the account has no keyset encrypted by the Account Unlock Key".into())
    })?;
    let auk = identity.auk(primary, &routine.options.kdf_limits).await?;
    // SRP proved the password and Secret Key (or the token's x), so a primary keyset that does
    // not open was changed or does not belong to this user: nothing can be trusted. Any other
    // keyset (a group's, an older one) that does not open is set aside and reported; what is
    // wrapped only to it fails when used.
    let (keyring, unopened_keysets) = Keyring::unlock_partial(&keysets.keysets, &auk)
        .map_err(|e| ApiError::Tampered(format!("the account's keysets did not open ({e})")))?;
    if let Ok(mut proven) = routine.proven.lock() {
        *proven = Some(Proven {
            account_uuid: account_uuid.as_str().to_owned(),
            user_uuid: user_uuid.as_str().to_owned(),
            unlock_key: auk,
        });
    }

    Ok(SignedIn {
        client,
        keyring,
        unopened_keysets,
        account_uuid,
        user_uuid,
        device_uuid,
        new_dsecret: established.new_dsecret,
    })
}

fn check_device_uuid(uuid: &str) -> Result<()> {
    let ok = uuid.len() == 26
        && uuid
            .bytes()
            .all(|b| b.is_ascii_lowercase() || (b'2'..=b'7').contains(&b));
    if ok {
        Ok(())
    } else {
        Err(ApiError::InvalidInput(format!(
            "the device uuid {uuid:?} is not 26 lower-case base32 characters; pass the value \
             SignedIn::device_uuid gave, or none to register a new device"
        )))
    }
}

/// Runs CPU-heavy key derivation off the async threads.
async fn blocking<T, F>(f: F) -> Result<T>
where
    T: Send + 'static,
    F: FnOnce() -> Result<T> + Send + 'static,
{
    tokio::task::spawn_blocking(f)
        .await
        .map_err(|_| ApiError::Protocol("key derivation was interrupted".into()))?
}

/// Maps errors of sign-in calls: any 401 / error 102 and the unknown-account `400 {}` are
/// "wrong credentials", without saying which.
fn sign_in_error(error: ApiError) -> ApiError {
    match error {
        ApiError::SessionExpired => ApiError::Authentication,
        ApiError::Server {
            status: 400,
            error_code: None,
            reason: None,
            ..
        } => ApiError::Authentication,
        other => other,
    }
}

struct Established {
    session: Arc<Session>,
    verify: VerifyResponse,
    new_dsecret: Option<DeviceSecret>,
}

/// Everything needed to sign in (again): kept by the transport for session expiry.
struct SignInRoutine {
    identity: Arc<Identity>,
    options: SignInOptions,
    device_uuid: String,
    /// The newest remember-this-device token (the stored one, or one handed out since).
    dsecret: Mutex<Option<DeviceSecret>>,
    /// What the first sign-in proved, for every sign-in again to prove once more.
    proven: Mutex<Option<Proven>>,
}

/// What the first sign-in established and every sign-in again must find unchanged: the same
/// account and user, and keysets that still open with the key that opened them.
struct Proven {
    account_uuid: String,
    user_uuid: String,
    unlock_key: SymmetricKey,
}

#[async_trait]
impl Reauthenticate for SignInRoutine {
    /// Signs in again and proves everything the first sign-in proved: the server's SRP proof
    /// (v2) or its encrypted answer under the new key (v1), the echoed session id (v1), the same
    /// account and user, and keysets that still open with the key that opened them. Only then
    /// is the new session handed back to be installed.
    async fn reauthenticate(&self, transport: &Transport) -> Result<Arc<Session>> {
        let established = self
            .establish(transport)
            .await
            .map_err(|e| self.identity.sign_in_error(e))?;
        self.prove_again(transport, &established).await?;
        Ok(established.session)
    }
}

impl SignInRoutine {
    /// The checks a sign-in again adds to [`establish`](Self::establish): same account and user
    /// as the first sign-in, and the account's keysets (read with the new session) still open
    /// with the key that opened them then.
    async fn prove_again(&self, transport: &Transport, established: &Established) -> Result<()> {
        let Some((account_uuid, user_uuid, unlock_key)) = self.proven.lock().ok().and_then(|p| {
            p.as_ref().map(|p| {
                (
                    p.account_uuid.clone(),
                    p.user_uuid.clone(),
                    p.unlock_key.clone(),
                )
            })
        }) else {
            return Err(ApiError::Tampered(
                "a session expired before the first sign-in had finished its checks".into(),
            ));
        };
        if established.verify.account_uuid != account_uuid
            || established.verify.user_uuid != user_uuid
        {
            return Err(ApiError::Tampered(
                "signing in again gave a session for another account or user than the first \
                 sign-in"
                    .into(),
            ));
        }
        let keysets: KeysetsResponse = self
            .call(
                transport,
                Request::new(KEYSETS, &[]),
                Some(&established.session),
            )
            .await?;
        Keyring::unlock_partial(&keysets.keysets, &unlock_key).map_err(|e| {
            ApiError::Tampered(format!(
                "after signing in again, the account's primary keyset no longer opens with the \
                 key that opened it at sign-in ({e})"
            ))
        })?;
        Ok(())
    }

    fn client_descriptor(&self) -> &str {
        &self.options.transport.client
    }

    fn device(&self) -> Device {
        let (name, version) = client_parts(self.client_descriptor());
        Device {
            uuid: self.device_uuid.clone(),
            client_name: name.to_owned(),
            client_version: version.to_owned(),
            name: Some(self.options.device_name.clone()),
            model: Some(env!("CARGO_PKG_VERSION").to_owned()),
            os_name: Some(std::env::consts::OS.to_owned()),
            os_version: None,
            user_agent: Some(self.options.transport.user_agent.clone()),
        }
    }

    async fn call<T: DeserializeOwned>(
        &self,
        transport: &Transport,
        request: Request,
        session: Option<&Arc<Session>>,
    ) -> Result<T> {
        let name = request.endpoint().name;
        transport
            .send_with_session(&request, session)
            .await
            .map_err(sign_in_error)?
            .parse(name)
    }

    /// Steps 1 to 4: a session with its key, the verify/complete answer, and any new dsecret.
    async fn establish(&self, transport: &Transport) -> Result<Established> {
        let identity = &self.identity;
        let email = normalize_email(identity.email());
        let sk = identity.secret_key();
        let start_body = StartAuthRequest {
            email: email.clone(),
            sk_format: sk.format().to_owned(),
            skid: sk.account_id().to_owned(),
            device_uuid: self.device_uuid.clone(),
            user_uuid: None,
        };

        let mut registered = false;
        let mut reauthorized = false;
        let start: StartAuthResponse = loop {
            let answer: StartAuthResponse = self
                .call(
                    transport,
                    Request::new(AUTH_START, &[]).body(&start_body)?,
                    None,
                )
                .await?;
            match &answer.status {
                StartAuthStatus::Ok => break answer,
                StartAuthStatus::DeviceNotRegistered if !registered => {
                    let session = Arc::new(Session::started(session_id_of(&answer)?));
                    let _: serde_json::Value = self
                        .call(
                            transport,
                            Request::new(DEVICE_REGISTER, &[]).body(&self.device())?,
                            Some(&session),
                        )
                        .await?;
                    registered = true;
                }
                StartAuthStatus::DeviceDeleted if !reauthorized => {
                    let session = Arc::new(Session::started(session_id_of(&answer)?));
                    let _: serde_json::Value = self
                        .call(
                            transport,
                            Request::new(DEVICE_REAUTHORIZE, &[&self.device_uuid]),
                            Some(&session),
                        )
                        .await?;
                    reauthorized = true;
                }
                StartAuthStatus::DeviceNotRegistered | StartAuthStatus::DeviceDeleted => {
                    return Err(ApiError::Protocol(
                        "the server still does not accept this device after registering it".into(),
                    ));
                }
                StartAuthStatus::Other(status) => {
                    return Err(ApiError::Protocol(format!(
                        "the server answered sign-in status {status:?}, which this client does not \
                         handle (the account's address or the user's email may have changed)"
                    )));
                }
            }
        };

        if start
            .account_key_format
            .as_deref()
            .is_some_and(|f| f != sk.format())
            || start
                .account_key_uuid
                .as_deref()
                .is_some_and(|id| id != sk.account_id())
        {
            return Err(ApiError::WrongSecretKey);
        }
        let session_id = session_id_of(&start)?;
        let user_auth = start
            .user_auth
            .as_ref()
            .ok_or_else(|| ApiError::Protocol("the sign-in start answer has no userAuth".into()))?;
        let params = KdfParams::from_wire(&user_auth.alg, &user_auth.salt, user_auth.iterations)
            .map_err(|e| {
                ApiError::Protocol(format!(
                    "the server's key-derivation parameters are unusable ({e})"
                ))
            })?;
        let x: SecretBytes32 = identity
            .srp_x(&user_auth.method, &params, &self.options.kdf_limits)
            .await?;

        let started = Arc::new(Session::started(session_id.clone()));
        let srp = SrpClient::generate();
        let client = self.client_descriptor().to_owned();
        let (session, verify) = match self.options.srp {
            SrpVersion::V2 => {
                let b: SrpV2Response = self
                    .call(
                        transport,
                        Request::new(AUTH_V2, &[]).body(&SrpV2Request {
                            user_a: srp.public_hex(),
                        })?,
                        Some(&started),
                    )
                    .await?;
                let proof = srp
                    .v2_session(&x, &b.user_b, &params.salt, sk.account_id(), &email)
                    .map_err(|_| {
                        ApiError::Tampered("the server's SRP value userB is invalid".into())
                    })?;
                let confirm: ConfirmKeyResponse = self
                    .call(
                        transport,
                        Request::new(AUTH_V2_CONFIRM_KEY, &[]).body(&ConfirmKeyRequest {
                            client_verify_hash: proof.client_verify_hash(),
                        })?,
                        Some(&started),
                    )
                    .await?;
                proof
                    .verify_server(&confirm.server_verify_hash)
                    .map_err(|_| {
                        ApiError::Tampered(
                            "the server's SRP proof (serverVerifyHash) is wrong: the server does \
                             not know this user's verifier"
                                .into(),
                        )
                    })?;
                let session = Arc::new(Session::with_key(
                    session_id.clone(),
                    proof.key().expose_secret(),
                ));
                let verify: VerifyResponse = self
                    .call(
                        transport,
                        Request::new(AUTH_V2_COMPLETE, &[]).body(&CompleteRequest {
                            client,
                            device: self.device(),
                        })?,
                        Some(&session),
                    )
                    .await?;
                (session, verify)
            }
            SrpVersion::V1 => {
                let b: SrpV1Response = self
                    .call(
                        transport,
                        Request::new(AUTH_V1, &[]).body(&SrpV1Request {
                            session_id: session_id.clone(),
                            user_a: srp.public_hex(),
                        })?,
                        Some(&started),
                    )
                    .await?;
                if b.session_id != session_id {
                    return Err(ApiError::Tampered(
                        "the SRP answer names another session than the one started".into(),
                    ));
                }
                let key = srp
                    .v1_session_key(&x, &b.user_b, &session_id)
                    .map_err(|_| {
                        ApiError::Tampered("the server's SRP value userB is invalid".into())
                    })?;
                let session = Arc::new(Session::with_key(session_id.clone(), key.expose_secret()));
                let client_verify_hash = v1_client_verify_hash(sk.account_id(), &session_id);
                let verify: VerifyResponse = self
                    .call(
                        transport,
                        Request::new(AUTH_V1_VERIFY, &[]).body(&VerifyRequest {
                            session_id: session_id.clone(),
                            client_verify_hash: client_verify_hash.clone(),
                            client,
                            device: self.device(),
                        })?,
                        Some(&session),
                    )
                    .await?;
                if let Some(server_hash) = &verify.server_verify_hash
                    && *server_hash != v1_server_verify_hash(&session_id, &client_verify_hash)
                {
                    return Err(ApiError::Tampered(
                        "the server's verify hash (serverVerifyHash) is wrong".into(),
                    ));
                }
                (session, verify)
            }
        };

        let new_dsecret = match verify.mfa.as_ref().filter(|m| !m.is_empty()) {
            Some(challenge) => self.answer_mfa(transport, &session, challenge).await?,
            None => None,
        };
        Ok(Established {
            session,
            verify,
            new_dsecret,
        })
    }

    /// Step 4: answers the second-factor challenge.
    async fn answer_mfa(
        &self,
        transport: &Transport,
        session: &Arc<Session>,
        challenge: &MfaChallenge,
    ) -> Result<Option<DeviceSecret>> {
        let offered = challenge.offered_methods();
        let mut body = MfaSubmitRequest::new(session.id(), self.client_descriptor());
        let stored = self.dsecret.lock().ok().and_then(|d| d.clone());
        match stored {
            Some(token) if challenge.accepts_dsecret() => {
                let dshmac = opadmin_crypto::mfa::dshmac(token.expose_secret(), session.id())
                    .map_err(|_| {
                        ApiError::InvalidInput(
                            "the stored remember-this-device token is malformed; drop it and sign \
                             in with a TOTP code"
                                .into(),
                        )
                    })?;
                body.dsecret = Some(MfaDsecret { dshmac });
            }
            _ if challenge.accepts_totp() => {
                let code = self.totp_code(challenge).await?;
                let Some(code) = code else {
                    return Err(ApiError::MfaRequired { methods: offered });
                };
                body.totp = Some(MfaCode { code });
            }
            _ if challenge.accepts_dsecret() => {
                return Err(ApiError::MfaRequired { methods: offered });
            }
            _ => return Err(ApiError::MfaUnsupported { offered }),
        }
        let answer: MfaSubmitResponse = self
            .call(
                transport,
                Request::new(AUTH_MFA, &[]).body(&body)?,
                Some(session),
            )
            .await?;
        let new = answer.dsecret;
        if let Some(token) = &new
            && let Ok(mut slot) = self.dsecret.lock()
        {
            *slot = Some(token.clone());
        }
        Ok(new)
    }

    async fn totp_code(&self, challenge: &MfaChallenge) -> Result<Option<String>> {
        if let Some(secret) = &self.options.totp_secret {
            let now = SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| d.as_secs())
                .unwrap_or_default();
            let code = opadmin_crypto::mfa::totp(secret.expose_secret(), now).map_err(|_| {
                ApiError::InvalidInput(
                    "the TOTP secret is not valid base32; copy it again from the authenticator \
                     set-up"
                        .into(),
                )
            })?;
            return Ok(Some(code));
        }
        match &self.options.mfa_code {
            Some(source) => source.totp_code(challenge).await,
            None => Ok(None),
        }
    }
}

/// Checks server-supplied key-derivation parameters against the limits before any derivation.
fn check_kdf(limits: &KdfLimits, params: &KdfParams) -> Result<()> {
    limits.check(params).map_err(|e| match e {
        opadmin_crypto::CryptoError::KdfIterationsOutOfRange {
            iterations,
            min,
            max,
        } => ApiError::UnsafeKdfParameters {
            iterations,
            min,
            max,
        },
        other => ApiError::Protocol(format!(
            "the server's key-derivation parameters are unusable ({other})"
        )),
    })
}

fn session_id_of(answer: &StartAuthResponse) -> Result<String> {
    let id = answer
        .session_id
        .as_deref()
        .filter(|id| {
            !id.is_empty() && id.len() <= 64 && id.bytes().all(|b| b.is_ascii_alphanumeric())
        })
        .ok_or_else(|| {
            ApiError::Protocol("the sign-in start answer has no usable sessionID".into())
        })?;
    Ok(id.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn debug_redacts() {
        let creds = Credentials::parse(
            "my.1password.com",
            "a@b.c",
            "hunter2-password",
            "A3-RTN9SA-DY9445Y5FF96X6E7B5GPFA95R9",
        )
        .unwrap();
        let shown = format!("{creds:?}");
        assert!(!shown.contains("hunter2"), "{shown}");
        assert!(!shown.contains("DY9445"), "{shown}");
        let opts = SignInOptions::default()
            .with_totp_secret("JBSWY3DPEHPK3PXP")
            .with_dsecret("gUhBItRHUI7vAc04TJNUkA");
        let shown = format!("{opts:?}");
        assert!(!shown.contains("JBSWY3"), "{shown}");
        assert!(!shown.contains("gUhBIt"), "{shown}");
    }

    #[test]
    fn device_uuids() {
        assert!(check_device_uuid("rz64r4uhyvgew672nm4ncaqonq").is_ok());
        assert!(check_device_uuid("RZ64R4UHYVGEW672NM4NCAQONQ").is_err());
        assert!(check_device_uuid("short").is_err());
    }
}
