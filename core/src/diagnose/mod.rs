//! Failure modes of a delegation, in words a user can act on: a pure
//! function of verification's observations, no I/O.
//!
//! - `diagnosis`: [`diagnose`] turns the [`ServerCheck`]s of one attempt into
//!   [`Finding`]s ("the parent has no NS record", "the parent still points at
//!   the old servers", "this resolver holds a cached NXDOMAIN for 812 more
//!   seconds"), and [`verdict`] adds up whether the attempt passed.
//! - `findings`: the [`Finding`]s themselves, with severity, code and message.
//! - `servers`: [`server_results`], one line per server asked.
//! - `listing`: which servers verification asks (every server the
//!   delegation or the child's apex NS set names, as Zonemaster does) and
//!   where each is named ([`NsSets`]).
//!
//! The questions (and the probe for a dangling delegation) live in
//! [`crate::verify`], which depends on this module and never the other way.
//!
//! [`ServerCheck`]: crate::check::ServerCheck

mod diagnosis;
mod findings;
mod listing;
mod servers;

pub use diagnosis::{diagnose, verdict, Verdict};
pub use findings::{Finding, Severity};
pub use listing::{mark_listings, servers_to_ask, NsSets};
pub use servers::server_results;

#[cfg(test)]
mod tests;
