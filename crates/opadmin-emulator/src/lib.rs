//! # opadmin-emulator
//!
//! A server that speaks 1Password's b5 protocol (docs/protocol.md) with real crypto over an in-memory
//! account, so that the SDK, its examples and tests, the CLI and other people's connectors run
//! complete flows without a real account and without any network.
//!
//! * [`AccountBuilder`] describes an account: owner, people, groups, vaults, plan, MFA policy,
//!   iteration count, seed; or [`demo_account`] gives a ready-made Business account.
//! * [`Emulator::start`] serves it on a loopback port and returns a [`RunningEmulator`] with the
//!   address and the credentials of everyone who can sign in.
//! * [`EmulatorConfig`] sets the accepted SRP flavours, the session idle timeout and injected
//!   faults (latency, 429, 5xx, dropped connections, forced session expiry).
//!
//! It enforces what the real service enforces: MAC and request-id checks on every signed request,
//! encrypted bodies and answers, idle expiry, visibility, the Manage bit for vault-access changes,
//! the Business plan for invitations, suspended and deleted people refused at sign-in, a second
//! factor where required, and confirmation keys that actually open with the new person's key.
//!
//! ```no_run
//! # async fn run() -> Result<(), Box<dyn std::error::Error>> {
//! use opadmin_emulator::{Emulator, EmulatorConfig, demo_account};
//! let emulator = Emulator::start(EmulatorConfig::default(), demo_account().iterations(1000)).await?;
//! println!("sign in at {} as {}", emulator.address(), emulator.owner().email);
//! emulator.shutdown().await;
//! # Ok(()) }
//! ```
#![forbid(unsafe_code)]
#![warn(missing_docs)]

mod builder;
pub mod config;
mod model;
pub mod rng;
mod server;
mod service_account;
mod views;

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};

use axum::Router;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub use builder::{
    AccountBuilder, BuildError, DEFAULT_OWNER_EMAIL, GroupSpec, PersonSpec, Role, VaultSpec,
};
pub use config::{
    EmulatorConfig, FaultKind, FaultRule, FaultTarget, FaultTiming, Faults, RateLimit, SrpFlavours,
};
pub use model::{Acl, Credentials, MemberRole, PersonState, Plan, acl, perm};
pub use server::scim::ScimToken;
pub use service_account::{
    SERVICE_ACCOUNT_EMAIL_DOMAIN, SERVICE_ACCOUNT_ITERATIONS, ServiceAccountCredentials,
    ServiceAccountSpec,
};

/// Errors starting an emulator.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum EmulatorError {
    /// The account description is inconsistent.
    #[error(transparent)]
    Build(#[from] BuildError),
    /// The port could not be bound.
    #[error("cannot listen on 127.0.0.1:{port}: {source}")]
    Bind {
        /// The port asked for.
        port: u16,
        /// Why.
        source: std::io::Error,
    },
    /// A test hook was asked about something the account does not hold.
    #[error("{0}")]
    NotFound(String),
    /// The emulator failed inside: the account builder's thread panicked, or making keys for a
    /// new person failed.
    #[error("emulator internal failure: {0}")]
    Internal(String),
}

/// Starts emulators.
pub struct Emulator;

impl Emulator {
    /// Builds the account (on a blocking thread: large accounts take seconds) and serves it on
    /// 127.0.0.1 until [`RunningEmulator::shutdown`] or drop.
    pub async fn start(
        config: EmulatorConfig,
        account: AccountBuilder,
    ) -> Result<RunningEmulator, EmulatorError> {
        let seed_entropy = account_seed(&account);
        let (account, credentials) = tokio::task::spawn_blocking(move || account.build())
            .await
            .map_err(builder_failed)??;
        let port = config.port;
        let listener = TcpListener::bind(("127.0.0.1", port))
            .await
            .map_err(|source| EmulatorError::Bind { port, source })?;
        let addr = listener
            .local_addr()
            .map_err(|source| EmulatorError::Bind { port, source })?;
        let drop_every = config.faults.drop_connection_every;
        let fault_book = server::faults::FaultBook::new(&config.faults.rules);
        let shared = Arc::new(server::Shared {
            config,
            account: Mutex::new(account),
            sessions: Mutex::new(HashMap::new()),
            entropy: rng::Entropy::new(seed_entropy),
            requests: AtomicU64::new(0),
            changes: AtomicU64::new(0),
            faults: fault_book,
            limiter: server::limit::Limiter::default(),
            writes: Mutex::new(()),
            scim: server::scim::ScimState::new(server::scim::ScimToken::generate(
                &rng::Entropy::new(seed_entropy.map(|s| s ^ SCIM_TOKEN_SEED)),
            )),
        });
        let app = Router::new()
            .fallback(server::dispatch)
            .with_state(shared.clone());
        let (tx, rx) = oneshot::channel::<()>();
        let listener = FaultyListener {
            inner: listener,
            drop_every,
            accepted: 0,
        };
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async {
                    let _ = rx.await;
                })
                .await;
        });
        Ok(RunningEmulator {
            addr,
            shared,
            credentials,
            shutdown: Some(tx),
            task: Some(task),
        })
    }
}

/// The error for an account builder thread that did not finish (it panicked, or was cancelled).
fn builder_failed(e: tokio::task::JoinError) -> EmulatorError {
    EmulatorError::Internal(format!("account builder failed: {e}"))
}

/// Mixed into the seed for the SCIM token's own stream, so that drawing it leaves the server's
/// seeded ids unchanged.
const SCIM_TOKEN_SEED: u64 = 0x5C17_0000_0000_0001;

fn account_seed(builder: &AccountBuilder) -> Option<u64> {
    builder.seed_value().map(|s| s.wrapping_add(1))
}

/// A listener that closes every N-th accepted connection at once (fault injection).
struct FaultyListener {
    inner: TcpListener,
    drop_every: Option<u64>,
    accepted: u64,
}

impl axum::serve::Listener for FaultyListener {
    type Io = TcpStream;
    type Addr = SocketAddr;

    async fn accept(&mut self) -> (Self::Io, Self::Addr) {
        loop {
            let Ok((stream, addr)) = self.inner.accept().await else {
                tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                continue;
            };
            self.accepted += 1;
            if self
                .drop_every
                .is_some_and(|n| n > 0 && self.accepted.is_multiple_of(n))
            {
                drop(stream);
                continue;
            }
            return (stream, addr);
        }
    }

    fn local_addr(&self) -> std::io::Result<Self::Addr> {
        self.inner.local_addr()
    }
}

/// A serving emulator. Dropping it stops the server.
pub struct RunningEmulator {
    addr: SocketAddr,
    shared: Arc<server::Shared>,
    credentials: Vec<Credentials>,
    shutdown: Option<oneshot::Sender<()>>,
    task: Option<JoinHandle<()>>,
}

impl std::fmt::Debug for RunningEmulator {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RunningEmulator")
            .field("address", &self.address())
            .finish_non_exhaustive()
    }
}

impl RunningEmulator {
    /// The base address, `http://127.0.0.1:PORT`.
    pub fn address(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// `127.0.0.1:PORT` (the sign-in address a client uses with insecure loopback HTTP).
    pub fn host_port(&self) -> String {
        self.addr.to_string()
    }

    /// The socket address.
    pub fn socket_addr(&self) -> SocketAddr {
        self.addr
    }

    /// The SCIM base URL to hand a SCIM client: `http://127.0.0.1:PORT/scim/v2`. The same
    /// endpoints also answer under `/scim` and at the root (as 1Password's bridge is addressed).
    pub fn scim_url(&self) -> String {
        format!("{}/scim/v2", self.address())
    }

    /// The SCIM bearer token (random per emulator; repeatable when the account is seeded).
    pub fn scim_token(&self) -> &str {
        self.shared.scim.token.as_str()
    }

    /// The SCIM bearer token as a type whose `Debug` does not show it.
    pub fn scim_bearer(&self) -> &ScimToken {
        &self.shared.scim.token
    }

    /// The owner's credentials.
    pub fn owner(&self) -> &Credentials {
        &self.credentials[0]
    }

    /// Credentials of a person who can sign in, by email.
    pub fn credentials(&self, email: &str) -> Option<&Credentials> {
        let email = email.trim().to_lowercase();
        self.credentials
            .iter()
            .find(|c| c.email.to_lowercase() == email)
    }

    /// Every service account with its `ops_` token, which names this emulator's `host:port`
    /// as `signInAddress` (the token is rendered now: the address is known only once bound).
    pub fn service_accounts(&self) -> Vec<ServiceAccountCredentials> {
        let account = self.shared.account();
        let address = self.host_port();
        account
            .service_accounts
            .iter()
            .filter_map(|(uuid, sa)| {
                let user = account.users.get(uuid)?;
                let sign_in = user.sign_in.as_ref()?;
                Some(ServiceAccountCredentials {
                    user_uuid: uuid.clone(),
                    email: user.email.clone(),
                    name: user.name.clone(),
                    token: service_account::render_token(user, sign_in, sa, &address),
                })
            })
            .collect()
    }

    /// The `ops_` token of the account's first service account (the demo account's
    /// [`DEMO_SERVICE_ACCOUNT_NAME`]), if it has one.
    pub fn service_account_token(&self) -> Option<String> {
        self.service_accounts().into_iter().next().map(|s| s.token)
    }

    /// How many requests were answered HTTP 429 by the configured rate limit
    /// ([`Faults::rate_limit`]).
    pub fn rate_limited(&self) -> u64 {
        self.shared.limiter.refused()
    }

    /// How many requests the server has received.
    pub fn requests_served(&self) -> u64 {
        self.shared.requests.load(Ordering::Relaxed)
    }

    /// How many signed requests changed the account: people, groups and their members, vault
    /// access or invitations differ after the request from before it. A write the server accepts
    /// but that changes nothing (a repeat of one already applied) does not count; a change whose
    /// answer an injected fault replaced ([`FaultKind::ApplyThenServerError`] and the others
    /// that apply) does. SCIM requests are not counted.
    pub fn changes_applied(&self) -> u64 {
        self.shared.changes.load(Ordering::Relaxed)
    }

    /// Puts a fault rule in force from now on (after those of the configuration and earlier
    /// calls: the first rule that fires for a request decides).
    pub fn inject_fault(&self, rule: FaultRule) {
        self.shared.faults.add(rule);
    }

    /// Removes every fault rule (those of the configuration too). The other faults of
    /// [`Faults`] stay.
    pub fn clear_faults(&self) {
        self.shared.faults.clear();
    }

    /// How many requests the fault rules in force have struck.
    pub fn faults_struck(&self) -> u64 {
        self.shared.faults.struck()
    }

    /// How many sessions the server holds: signed in, or part-way through signing in (those
    /// are capped, and dropped when never finished).
    pub fn session_count(&self) -> usize {
        self.shared.sessions().len()
    }

    /// Ends every session (clients must sign in again).
    pub fn expire_sessions(&self) {
        self.shared.sessions().clear();
    }

    /// Plays the invitee: the pending invitation for `email` is accepted, and a person in state
    /// `P` (awaiting confirmation) with a fresh keyset appears. Returns the new person's uuid.
    pub fn accept_invitation(&self, email: &str, name: &str) -> Result<String, EmulatorError> {
        let email = email.trim().to_lowercase();
        let mut account = self.shared.account();
        let idx = account
            .invitations
            .iter()
            .position(|i| i.email == email && i.state == 'P')
            .ok_or_else(|| EmulatorError::NotFound(format!("no pending invitation for {email}")))?;
        account.invitations[idx].state = 'A';
        if let Some(user) = account.invitations[idx].user.clone()
            && let Some(uuid) =
                server::scim::accept_provisioned(&self.shared, &mut account, &user, name)
        {
            return Ok(uuid);
        }
        let invite_type = account.invitations[idx].invite_type;
        let uuid = server::mutate::add_person(
            &mut account,
            &self.shared.entropy,
            &email,
            name,
            'P',
            invite_type,
        )
        .map_err(|e| EmulatorError::Internal(format!("keyset: {e}")))?;
        account.invitations[idx].user = Some(uuid.clone());
        Ok(uuid)
    }

    /// A person's uuid by email.
    pub fn user_uuid(&self, email: &str) -> Option<String> {
        self.shared
            .account()
            .find_user(email)
            .map(|u| u.uuid.clone())
    }

    /// The devices a person has registered (uuids, sorted), by email or uuid; empty when
    /// there is no such person.
    pub fn devices(&self, user: &str) -> Vec<String> {
        self.shared
            .account()
            .find_user(user)
            .map(|u| u.devices.iter().cloned().collect())
            .unwrap_or_default()
    }

    /// A person's state by email or uuid.
    pub fn user_state(&self, user: &str) -> Option<PersonState> {
        self.shared
            .account()
            .find_user(user)
            .and_then(|u| PersonState::from_letter(u.state))
    }

    /// A group's uuid by name.
    pub fn group_uuid(&self, name: &str) -> Option<String> {
        self.shared
            .account()
            .groups
            .values()
            .find(|g| g.name == name)
            .map(|g| g.uuid.clone())
    }

    /// A group's members (uuid, role), by group uuid.
    pub fn group_members(&self, group: &str) -> Vec<(String, MemberRole)> {
        self.shared
            .account()
            .groups
            .get(group)
            .map(|g| g.members.iter().map(|(u, m)| (u.clone(), m.role)).collect())
            .unwrap_or_default()
    }

    /// A vault's uuid by name.
    pub fn vault_uuid(&self, name: &str) -> Option<String> {
        self.shared
            .account()
            .vaults
            .values()
            .find(|v| v.name == name)
            .map(|v| v.uuid.clone())
    }

    /// The acl of a direct access record (a user's or a group's) on a vault.
    pub fn vault_access(&self, vault: &str, accessor: &str) -> Option<Acl> {
        let account = self.shared.account();
        let v = account.vaults.get(vault)?;
        v.users
            .get(accessor)
            .or_else(|| v.groups.get(accessor))
            .map(|a| a.acl)
    }

    /// Pending invitations' emails.
    pub fn pending_invitations(&self) -> Vec<String> {
        self.shared
            .account()
            .invitations
            .iter()
            .filter(|i| i.state == 'P')
            .map(|i| i.email.clone())
            .collect()
    }

    /// How many times the pending invitation for this email was resent (`None` if there is no
    /// pending invitation for it).
    pub fn invitation_resends(&self, email: &str) -> Option<u32> {
        self.shared
            .account()
            .invitations
            .iter()
            .find(|i| i.state == 'P' && i.email == email)
            .map(|i| i.resent)
    }

    /// Number of people in the account (not deleted; service accounts are not people).
    pub fn user_count(&self) -> usize {
        self.shared
            .account()
            .users
            .values()
            .filter(|u| u.state != 'D' && u.user_type != 'S')
            .count()
    }

    /// Test hook: deletes a vault (by uuid) right after the next vault listing is answered, so
    /// that a client which listed it finds it gone when it reads it. Returns whether the vault
    /// exists now.
    pub fn delete_vault_after_listing(&self, vault: &str) -> bool {
        let mut account = self.shared.account();
        if !account.vaults.contains_key(vault) {
            return false;
        }
        account.vanish_after_listing.insert(vault.to_owned());
        true
    }

    /// Test hook: damages the vault key wrapped to one accessor (a person's or a group's uuid)
    /// so that it no longer opens; everything else about the vault stays intact. Returns
    /// whether such an access record exists.
    pub fn corrupt_vault_key(&self, vault: &str, accessor: &str) -> bool {
        let mut account = self.shared.account();
        let Some(v) = account.vaults.get_mut(vault) else {
            return false;
        };
        let Some(access) = v
            .users
            .get_mut(accessor)
            .or_else(|| v.groups.get_mut(accessor))
        else {
            return false;
        };
        damage(&mut access.enc_vault_key.data);
        true
    }

    /// Test hook: damages a member's copy of a group keyset (group uuid, person's email or
    /// uuid), as the member's keyset list and the group's membership serve it, so that it no
    /// longer opens for them. Returns whether the membership exists.
    pub fn corrupt_member_keyset(&self, group: &str, user: &str) -> bool {
        let mut account = self.shared.account();
        let Some(uuid) = account.find_user(user).map(|u| u.uuid.clone()) else {
            return false;
        };
        let Some(member) = account
            .groups
            .get_mut(group)
            .and_then(|g| g.members.get_mut(&uuid))
        else {
            return false;
        };
        damage(&mut member.keyset.enc_sym_key.data);
        true
    }

    /// Test hook: damages a person's primary keyset (by email or uuid) as the keysets answer
    /// serves it, so that their account password and Secret Key no longer open it. Returns
    /// whether the person exists.
    pub fn corrupt_primary_keyset(&self, user: &str) -> bool {
        let mut account = self.shared.account();
        let Some(uuid) = account.find_user(user).map(|u| u.uuid.clone()) else {
            return false;
        };
        match account.users.get_mut(&uuid) {
            Some(u) => {
                damage(&mut u.keyset.enc_sym_key.data);
                true
            }
            None => false,
        }
    }

    /// Test hook: the public key served for a person (by email or uuid) becomes another
    /// person's, as if the server's copy had been swapped. Whatever is wrapped to it no longer
    /// opens with the person's own keys, so the server refuses it. Returns whether both people
    /// exist.
    pub fn serve_foreign_public_key(&self, user: &str, other: &str) -> bool {
        let mut account = self.shared.account();
        let (Some(uuid), Some(jwk)) = (
            account.find_user(user).map(|u| u.uuid.clone()),
            account.find_user(other).map(|u| u.pub_jwk.clone()),
        ) else {
            return false;
        };
        match account.users.get_mut(&uuid) {
            Some(u) => {
                u.pub_jwk = jwk;
                true
            }
            None => false,
        }
    }

    /// Stops serving and waits for the server task.
    pub async fn shutdown(mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
        if let Some(task) = self.task.take() {
            let _ = task.await;
        }
    }
}

/// Swaps one base64url character in the middle of a ciphertext for another: it keeps its
/// shape and length but no longer decrypts (RSA-OAEP padding or the GCM tag fails).
fn damage(data: &mut String) {
    let mid = data.len() / 2;
    if let Some(c) = data.get(mid..=mid) {
        let replacement = if c == "A" { "B" } else { "A" };
        data.replace_range(mid..=mid, replacement);
    }
}

impl Drop for RunningEmulator {
    fn drop(&mut self) {
        if let Some(tx) = self.shutdown.take() {
            let _ = tx.send(());
        }
    }
}

/// Password of every person of [`demo_account`] who can sign in.
pub const DEMO_PASSWORD: &str = "correct horse battery staple";

/// The name of [`demo_account`]'s service account.
pub const DEMO_SERVICE_ACCOUNT_NAME: &str = "Demo Service Account";

/// The user-defined group of [`demo_account`] that its service account sees and may grant or
/// revoke access to its vaults for (look its uuid up with [`RunningEmulator::group_uuid`]).
pub const DEMO_SERVICE_ACCOUNT_GROUP: &str = "Marketing";

/// The vaults of [`demo_account`] on which its service account holds read, write, export and
/// Manage.
pub const DEMO_SERVICE_ACCOUNT_VAULTS: [&str; 2] = ["Engineering", "Marketing"];

/// A ready-made Business account, "Acme Corp":
///
/// * `admin@acme.example` (owner) and `it-admin@acme.example` (administrator) can sign in;
/// * members `alice@`, `bob@`, `carol@` (active), `dave@` (awaiting confirmation), `erin@`
///   (suspended) and the guest `gina@acme.example`;
/// * groups Engineering (alice, carol as manager) and Marketing (bob);
/// * vaults Engineering (Engineering group), Marketing (Marketing group), Shared Logins (alice
///   directly), and Finance, whose creator excluded Administrators;
/// * the service account [`DEMO_SERVICE_ACCOUNT_NAME`], with read, write, export and Manage on
///   [`DEMO_SERVICE_ACCOUNT_VAULTS`], shown the group [`DEMO_SERVICE_ACCOUNT_GROUP`]
///   ([`RunningEmulator::service_account_token`]).
pub fn demo_account() -> AccountBuilder {
    let rwe = acl::RWE;
    let service_account = DEMO_SERVICE_ACCOUNT_VAULTS.iter().fold(
        ServiceAccountSpec::new(DEMO_SERVICE_ACCOUNT_NAME)
            .group(DEMO_SERVICE_ACCOUNT_GROUP)
            .permissions(perm::CREATE_VAULT),
        |spec, vault| spec.vault(*vault, rwe | acl::MANAGE),
    );
    AccountBuilder::new("Acme Corp")
        .owner("admin@acme.example", "Avery Admin", DEMO_PASSWORD)
        .person(
            PersonSpec::new("it-admin@acme.example", "Ivan IT")
                .role(Role::Administrator)
                .password(DEMO_PASSWORD),
        )
        .person(
            PersonSpec::new("alice@acme.example", "Alice Anders")
                .last_auth_at("2026-11-20T08:15:00Z"),
        )
        .person(
            PersonSpec::new("bob@acme.example", "Bob Brown").last_auth_at("2026-10-02T17:40:00Z"),
        )
        .person(
            PersonSpec::new("carol@acme.example", "Carol Chen")
                .last_auth_at("2026-11-27T12:00:00Z"),
        )
        .person(PersonSpec::new("dave@acme.example", "Dave Diaz").state(PersonState::Pending))
        .person(
            PersonSpec::new("erin@acme.example", "Erin Evans")
                .state(PersonState::Suspended)
                .last_auth_at("2026-03-01T10:00:00Z"),
        )
        .person(PersonSpec::new("gina@acme.example", "Gina Guest").role(Role::Guest))
        .group(
            GroupSpec::new("Engineering")
                .member("alice@acme.example")
                .manager("carol@acme.example"),
        )
        .group(GroupSpec::new("Marketing").member("bob@acme.example"))
        .vault(
            VaultSpec::new("Engineering")
                .desc("Build and deploy secrets")
                .group("Engineering", rwe),
        )
        .vault(VaultSpec::new("Marketing").group("Marketing", rwe))
        .vault(VaultSpec::new("Shared Logins").user("alice@acme.example", rwe))
        .vault(
            VaultSpec::new("Finance")
                .desc("Owners only")
                .exclude_administrators(),
        )
        .service_account(service_account)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn a_panicked_builder_thread_is_an_internal_error() {
        let joined = tokio::task::spawn_blocking(|| -> u8 { panic!("builder bug") }).await;
        let error = builder_failed(joined.expect_err("the thread panicked"));
        assert!(matches!(error, EmulatorError::Internal(_)), "{error:?}");
        assert!(error.to_string().starts_with("emulator internal failure:"));
    }
}
