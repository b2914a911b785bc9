//! Injected faults that strike chosen signed requests (see [`crate::config::FaultRule`]), and the
//! account fingerprint that tells a request that changed the account from one that did not.

use std::collections::hash_map::DefaultHasher;
use std::hash::{Hash, Hasher};
use std::sync::{Mutex, MutexGuard};

use crate::config::{FaultKind, FaultRule, FaultTarget, FaultTiming};
use crate::model::Account;

/// A rule and what it has seen so far.
struct Active {
    rule: FaultRule,
    /// Matching requests seen.
    seen: u64,
    /// Requests it struck.
    struck: u64,
}

/// The rules in force, with their counters.
pub(crate) struct FaultBook {
    rules: Mutex<Vec<Active>>,
}

impl FaultBook {
    /// The rules of the configuration, none struck yet.
    pub fn new(rules: &[FaultRule]) -> Self {
        Self {
            rules: Mutex::new(
                rules
                    .iter()
                    .cloned()
                    .map(|rule| Active {
                        rule,
                        seen: 0,
                        struck: 0,
                    })
                    .collect(),
            ),
        }
    }

    fn rules(&self) -> MutexGuard<'_, Vec<Active>> {
        self.rules.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a rule (after the others: an earlier rule that fires wins).
    pub fn add(&self, rule: FaultRule) {
        self.rules().push(Active {
            rule,
            seen: 0,
            struck: 0,
        });
    }

    /// Removes every rule.
    pub fn clear(&self) {
        self.rules().clear();
    }

    /// Requests struck so far by the rules in force.
    pub fn struck(&self) -> u64 {
        self.rules().iter().map(|a| a.struck).sum()
    }

    /// The fault for a signed request, if a rule fires: every matching rule counts the request,
    /// and the first that fires decides.
    pub fn strike(&self, method: &str, path: &str, state_changing: bool) -> Option<FaultKind> {
        let mut chosen = None;
        for active in self.rules().iter_mut() {
            if !matches(&active.rule.target, method, path, state_changing) {
                continue;
            }
            active.seen += 1;
            let fires = match active.rule.timing {
                FaultTiming::Rate(p) => p > 0.0 && fastrand::f64() < p,
                FaultTiming::EveryNth(n) => n > 0 && active.seen.is_multiple_of(n),
                FaultTiming::Next(n) => active.struck < n,
                FaultTiming::AfterFirst(n) => active.seen > n,
            };
            if fires && chosen.is_none() {
                active.struck += 1;
                chosen = Some(active.rule.kind);
            }
        }
        chosen
    }
}

fn matches(target: &FaultTarget, method: &str, path: &str, state_changing: bool) -> bool {
    match target {
        FaultTarget::StateChanging => state_changing,
        FaultTarget::Route {
            method: m,
            path_prefix,
        } => m.eq_ignore_ascii_case(method) && path.starts_with(path_prefix.as_str()),
    }
}

/// A digest of what the account's administrators can change: people (state, type, email,
/// name), groups (name, members and roles), vaults (name version, direct and group grants with
/// their acls) and invitations (state). Two equal digests mean no such change happened in
/// between (up to hash collisions).
pub(crate) fn fingerprint(account: &Account) -> u64 {
    let mut h = DefaultHasher::new();
    for (uuid, u) in &account.users {
        (uuid, u.state, u.user_type, &u.email, &u.name).hash(&mut h);
    }
    for (uuid, g) in &account.groups {
        (uuid, &g.name, g.permissions).hash(&mut h);
        for (member, m) in &g.members {
            (member, m.role).hash(&mut h);
        }
    }
    for (uuid, v) in &account.vaults {
        (uuid, v.attr_version).hash(&mut h);
        for (user, a) in &v.users {
            ('u', user, a.acl).hash(&mut h);
        }
        for (group, a) in &v.groups {
            ('g', group, a.acl).hash(&mut h);
        }
    }
    for i in &account.invitations {
        (&i.uuid, &i.email, i.state, &i.user).hash(&mut h);
    }
    account.service_accounts.len().hash(&mut h);
    h.finish()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(target: FaultTarget, timing: FaultTiming) -> FaultRule {
        FaultRule::new(target, timing, FaultKind::FailBeforeApply)
    }

    #[test]
    fn timings_strike_the_requests_they_name() {
        let book = FaultBook::new(&[rule(FaultTarget::StateChanging, FaultTiming::Next(2))]);
        let hits: Vec<bool> = (0..4)
            .map(|_| {
                book.strike("PUT", "/api/v1/people/suspend/U", true)
                    .is_some()
            })
            .collect();
        assert_eq!(hits, [true, true, false, false]);
        assert_eq!(book.strike("GET", "/api/v1/vaults", false), None);
        assert_eq!(book.struck(), 2);

        let book = FaultBook::new(&[rule(FaultTarget::StateChanging, FaultTiming::EveryNth(3))]);
        let hits: Vec<bool> = (0..6)
            .map(|_| book.strike("DELETE", "/api/v1/people/U", true).is_some())
            .collect();
        assert_eq!(hits, [false, false, true, false, false, true]);

        let book = FaultBook::new(&[rule(FaultTarget::StateChanging, FaultTiming::AfterFirst(2))]);
        let hits: Vec<bool> = (0..5)
            .map(|_| book.strike("PUT", "/api/v2/people/confirm", true).is_some())
            .collect();
        assert_eq!(hits, [false, false, true, true, true]);

        let book = FaultBook::new(&[rule(FaultTarget::StateChanging, FaultTiming::Rate(0.0))]);
        assert!((0..50).all(|_| book.strike("PUT", "/x", true).is_none()));
        let book = FaultBook::new(&[rule(FaultTarget::StateChanging, FaultTiming::Rate(1.0))]);
        assert!((0..50).all(|_| book.strike("PUT", "/x", true).is_some()));
    }

    #[test]
    fn routes_match_by_method_and_prefix_and_the_first_firing_rule_wins() {
        let book = FaultBook::new(&[
            FaultRule::new(
                FaultTarget::route("delete", "/api/v1/vault/"),
                FaultTiming::Next(1),
                FaultKind::ApplyThenDrop,
            ),
            rule(FaultTarget::StateChanging, FaultTiming::Next(5)),
        ]);
        assert_eq!(
            book.strike("PATCH", "/api/v1/vault/V/person/U", true),
            Some(FaultKind::FailBeforeApply)
        );
        assert_eq!(
            book.strike("DELETE", "/api/v1/vault/V/person/U", true),
            Some(FaultKind::ApplyThenDrop)
        );
        assert_eq!(
            book.strike("DELETE", "/api/v1/vault/V/person/U", true),
            Some(FaultKind::FailBeforeApply)
        );
        book.clear();
        assert_eq!(
            book.strike("DELETE", "/api/v1/vault/V/person/U", true),
            None
        );
        assert_eq!(book.struck(), 0);
    }
}
