//! Which servers verification asks, and where each is named: the
//! delegation (the NS set wanted and every referral the parent's servers
//! gave) and the child zone's apex NS set (every set its servers gave with
//! authority). Zonemaster's delegation and consistency tests ask every
//! server either names; so does verification, and each server is then
//! classified ([`Listing`]). Pure: the questions are [`crate::verify`]'s.

use crate::check::{CheckKind, Listing, ServerCheck, VerifyRequest};
use crate::dns::Rcode;
use crate::name::DomainName;
use crate::nsset::NsSet;

/// The NS sets that name child-side servers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NsSets {
    /// The NS set wanted and every NS set a parent server referred to.
    pub delegation: NsSet,
    /// Every server of every apex NS set a child server gave with
    /// authority; `None` when none did.
    pub apex: Option<NsSet>,
}

impl NsSets {
    /// The sets named by `req` and `checks`.
    pub fn of(req: &VerifyRequest, checks: &[ServerCheck]) -> NsSets {
        let mut delegation = req.child_name_servers.clone();
        for ns in checks
            .iter()
            .filter(|c| c.kind == CheckKind::ParentReferral && c.rcode == Some(Rcode::NOERROR))
            .filter_map(|c| c.ns_seen.as_ref())
        {
            ns.iter().for_each(|s| delegation.insert(s.clone()));
        }
        let mut apex: Option<NsSet> = None;
        for ns in apex_answers(checks) {
            let set = apex.get_or_insert_with(NsSet::new);
            ns.iter().for_each(|s| set.insert(s.clone()));
        }
        NsSets { delegation, apex }
    }

    /// Where `server` is named; `None` when no apex NS set is known (then
    /// nothing can be told about it) or neither set names it.
    pub fn listing(&self, server: &DomainName) -> Option<Listing> {
        let apex = self.apex.as_ref()?;
        match (self.delegation.contains(server), apex.contains(server)) {
            (true, true) => Some(Listing::Both),
            (true, false) => Some(Listing::DelegationOnly),
            (false, true) => Some(Listing::ChildOnly),
            (false, false) => None,
        }
    }
}

/// The apex NS sets child servers gave with authority (NOERROR, AA set).
fn apex_answers(checks: &[ServerCheck]) -> impl Iterator<Item = &NsSet> {
    checks
        .iter()
        .filter(|c| {
            c.kind == CheckKind::ChildNs
                && c.error.is_none()
                && c.rcode == Some(Rcode::NOERROR)
                && c.authoritative == Some(true)
        })
        .filter_map(|c| c.ns_seen.as_ref())
        .filter(|ns| !ns.is_empty())
}

/// The apex NS set when every child server that gave one gave the same:
/// then a difference from the delegation is the zone's, said once, not a
/// fault of each server.
pub(crate) fn agreed_apex(checks: &[ServerCheck]) -> Option<&NsSet> {
    let mut sets = apex_answers(checks);
    let first = sets.next()?;
    sets.all(|s| s == first).then_some(first)
}

/// Servers named by a referral or an apex NS set in `checks` that were not
/// asked yet (everything the request names is asked first): the second
/// round of questions.
pub fn servers_to_ask(req: &VerifyRequest, checks: &[ServerCheck]) -> NsSet {
    let sets = NsSets::of(req, checks);
    let asked: Vec<&DomainName> = checks
        .iter()
        .filter(|c| matches!(c.kind, CheckKind::ChildSoa | CheckKind::ChildNs))
        .filter_map(|c| c.server_name.as_ref())
        .collect();
    sets.delegation
        .iter()
        .chain(sets.apex.iter().flat_map(NsSet::iter))
        .filter(|s| !req.child_name_servers.contains(s) && !asked.contains(s))
        .cloned()
        .collect()
}

/// Sets [`ServerCheck::listed`] on every child check.
pub fn mark_listings(req: &VerifyRequest, checks: &mut [ServerCheck]) {
    let sets = NsSets::of(req, checks);
    for c in checks
        .iter_mut()
        .filter(|c| matches!(c.kind, CheckKind::ChildSoa | CheckKind::ChildNs))
    {
        c.listed = c.server_name.as_ref().and_then(|s| sets.listing(s));
    }
}
