//! How an emulator behaves: account policies, the SRP flavours it accepts, the KDF iterations it
//! hands out, session lifetime, and injected faults.

use std::time::Duration;

/// Which SRP flavours the emulated account accepts (docs/decisions.md, decision 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SrpFlavours {
    /// Only v1 (`/api/v1/auth`, `/api/v2/auth/verify`).
    V1Only,
    /// Only v2 (`/api/v2/auth`, `confirm-key`, `complete`).
    V2Only,
    /// Both (the real service today).
    #[default]
    Both,
}

/// Faults the emulator injects, for transport tests. All off by default.
#[derive(Debug, Clone, Default)]
pub struct Faults {
    /// Added to every response.
    pub latency: Option<Duration>,
    /// Every N-th request is answered HTTP 429 with `X-Rate-Limit-Retry-In`.
    pub rate_limit_every: Option<u64>,
    /// The seconds announced in `X-Rate-Limit-Retry-In`.
    pub rate_limit_retry_in_secs: u64,
    /// Probability (0.0 to 1.0) that a request is answered HTTP 503.
    pub server_error_rate: f64,
    /// Every N-th accepted connection is closed before anything is read or written.
    pub drop_connection_every: Option<u64>,
    /// A session expires after this many signed requests (forced expiry mid-sequence).
    pub expire_session_after_requests: Option<u64>,
    /// Test aid, a deliberately broken response shape: `POST /api/v3/auth/start` answers
    /// without the `newEmail` key. The official 1Password SDK (0.5.0) still signs in without
    /// it, so this fault alone does not make that SDK fail (see `omit_keysets_version` for the
    /// one that does); it remains for clients that do require the key. The binary's
    /// `--break omit-new-email` sets it.
    pub omit_auth_start_new_email: bool,
    /// Test aid: `GET /api/v2/account/keysets` answers without its `version` key, which
    /// docs/protocol.md "Observed from 1Password's own client" lists as required by the official 1Password SDK. (Dropping
    /// `newEmail` turned out not to stop SDK 0.5.0; this one does, and the interop test shows it.)
    pub omit_keysets_version: bool,
    /// A rate limit like the real service's: requests above it are answered HTTP 429 with
    /// `X-Rate-Limit-Retry-In` before anything else happens (see [`RateLimit`]).
    pub rate_limit: Option<RateLimit>,
    /// Faults that strike chosen signed requests before or after their change is applied (see
    /// [`FaultRule`]). The first rule that fires for a request decides what happens to it; more
    /// can be added while the emulator runs with
    /// [`RunningEmulator::inject_fault`](crate::RunningEmulator::inject_fault).
    pub rules: Vec<FaultRule>,
}

/// A limit on requests, by how many are in flight at once and/or how many arrive per second
/// (a fixed one-second window). A request over either is answered HTTP 429 with
/// `X-Rate-Limit-Retry-In: retry_in_secs` and nothing else is done with it; each such answer
/// is counted ([`RunningEmulator::rate_limited`](crate::RunningEmulator::rate_limited)).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub struct RateLimit {
    /// Most requests being answered at once (a request arriving while this many are in flight
    /// is refused).
    pub max_in_flight: Option<usize>,
    /// Most requests accepted in one second.
    pub per_second: Option<u32>,
    /// The seconds announced in `X-Rate-Limit-Retry-In`.
    pub retry_in_secs: u64,
}

impl RateLimit {
    /// At most `n` requests in flight; refused ones are told to retry in 1 second.
    pub fn in_flight(n: usize) -> Self {
        Self {
            max_in_flight: Some(n),
            per_second: None,
            retry_in_secs: 1,
        }
    }

    /// At most `n` requests per second; refused ones are told to retry in 1 second.
    pub fn per_second(n: u32) -> Self {
        Self {
            max_in_flight: None,
            per_second: Some(n),
            retry_in_secs: 1,
        }
    }

    /// Also at most `n` requests in flight.
    pub fn and_in_flight(mut self, n: usize) -> Self {
        self.max_in_flight = Some(n);
        self
    }

    /// Announces this wait in `X-Rate-Limit-Retry-In`.
    pub fn retry_in(mut self, secs: u64) -> Self {
        self.retry_in_secs = secs;
        self
    }
}

/// Which signed requests a [`FaultRule`] looks at. Requests of the sign-in and the session
/// (`/api/*/auth…`, `/api/*/session/…`) are never matched by [`FaultTarget::StateChanging`].
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultTarget {
    /// Every signed request that may change the account: any method but `GET`, outside
    /// signing in and the session routes.
    StateChanging,
    /// Signed requests with this method (upper case, e.g. `PUT`) whose path starts with this
    /// prefix (e.g. `/api/v1/people/`).
    Route {
        /// The HTTP method, upper case.
        method: String,
        /// The start of the path, with its leading `/`.
        path_prefix: String,
    },
}

impl FaultTarget {
    /// Signed requests with `method` whose path starts with `path_prefix`.
    pub fn route(method: &str, path_prefix: &str) -> Self {
        Self::Route {
            method: method.to_ascii_uppercase(),
            path_prefix: path_prefix.to_owned(),
        }
    }
}

/// When a [`FaultRule`] fires, among the requests its target matches (each rule counts its own
/// matching requests, from 1).
#[derive(Debug, Clone, Copy, PartialEq)]
#[non_exhaustive]
pub enum FaultTiming {
    /// Each matching request, with this probability (0.0 to 1.0; drawn with `fastrand`, whose
    /// seed a test may fix with `fastrand::seed`).
    Rate(f64),
    /// Every N-th matching request (the N-th, the 2N-th, ...).
    EveryNth(u64),
    /// The next N matching requests, then never again.
    Next(u64),
    /// Every matching request after the first N (those pass untouched): a failure that starts
    /// part-way through a sequence and does not pass.
    AfterFirst(u64),
}

/// What a [`FaultRule`] does to a request it fires on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum FaultKind {
    /// Answered HTTP 503 (error 103) before the handler runs: nothing is applied.
    FailBeforeApply,
    /// Answered HTTP 429 with `X-Rate-Limit-Retry-In: 0` before the handler runs: nothing is
    /// applied.
    RateLimitBeforeApply,
    /// The caller's session is ended before the handler runs and the request is answered
    /// 401 / error 102: nothing is applied, and the client must sign in again.
    ExpireSessionBeforeApply,
    /// The handler runs and its change is applied; the client gets HTTP 500 (error 103)
    /// instead of the answer.
    ApplyThenServerError,
    /// The handler runs and its change is applied; the answer's status and headers go out, and
    /// then the connection is broken before the body is complete.
    ApplyThenDrop,
    /// The handler runs and its change is applied; the answer is held back this long (longer
    /// than the client's timeout, so the client gives up first).
    ApplyThenHang(Duration),
}

impl FaultKind {
    /// Whether the request's handler runs (and its change is applied) under this fault.
    pub fn applies(self) -> bool {
        matches!(
            self,
            Self::ApplyThenServerError | Self::ApplyThenDrop | Self::ApplyThenHang(_)
        )
    }
}

/// One injected fault: which requests, when, and what happens.
#[derive(Debug, Clone, PartialEq)]
pub struct FaultRule {
    /// The requests it looks at.
    pub target: FaultTarget,
    /// Which of them it strikes.
    pub timing: FaultTiming,
    /// What it does.
    pub kind: FaultKind,
}

impl FaultRule {
    /// A rule.
    pub fn new(target: FaultTarget, timing: FaultTiming, kind: FaultKind) -> Self {
        Self {
            target,
            timing,
            kind,
        }
    }
}

/// Configuration of a running emulator.
#[derive(Debug, Clone)]
pub struct EmulatorConfig {
    /// Port on 127.0.0.1 (0 picks a free one).
    pub port: u16,
    /// SRP flavours accepted.
    pub srp: SrpFlavours,
    /// Idle time after which a session expires (docs/decisions.md, decision 3: 30 minutes).
    pub session_idle_timeout: Duration,
    /// Injected faults.
    pub faults: Faults,
}

impl Default for EmulatorConfig {
    fn default() -> Self {
        Self {
            port: 0,
            srp: SrpFlavours::Both,
            session_idle_timeout: Duration::from_secs(30 * 60),
            faults: Faults::default(),
        }
    }
}
