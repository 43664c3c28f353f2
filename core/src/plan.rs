//! Planning as a pure function: what is wanted plus what was read gives the
//! list of actions. No I/O happens here, so every rule is unit-tested.
//!
//! The rules that keep delegations safe live here:
//! - an NS record in the parent is replaced only when it is this
//!   delegation's own (its values are what this delegation last wrote, or
//!   already the child zone's), or when `allow_overwrite` says so;
//! - a destroy removes the parent record before the child zone, and only the
//!   values this delegation wrote.

use crate::nsset::NsSet;
use crate::record::NsRecord;

/// The child zone part of what is wanted.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ChildZoneMode {
    /// The delegation creates (and on destroy deletes) the zone.
    Create,
    /// The delegation uses an existing zone and never deletes it.
    Adopt {
        /// The zone's ID.
        zone_id: String,
    },
}

/// What the configuration asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Desired {
    /// TTL of the parent NS record.
    pub ttl: i64,
    /// Whether to create or adopt the child zone.
    pub child: ChildZoneMode,
    /// Replace an NS record this delegation did not write.
    pub allow_overwrite: bool,
}

/// A child zone as read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ObservedZone {
    /// Zone ID.
    pub id: String,
    /// Its name servers.
    pub name_servers: NsSet,
}

/// What was read from AWS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Observed {
    /// The child zone, if it exists.
    pub child_zone: Option<ObservedZone>,
    /// The parent's NS record for the name, if any.
    pub parent_record: Option<NsRecord>,
    /// What this delegation last wrote to the parent, if anything.
    pub last_written: Option<NsRecord>,
}

/// One step of an apply or destroy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Action {
    /// Create the child zone.
    CreateZone,
    /// Use this existing zone as the child zone.
    AdoptZone {
        /// Zone ID.
        zone_id: String,
    },
    /// Create the parent NS record with the child zone's name servers.
    WriteNs {
        /// TTL.
        ttl: i64,
    },
    /// Replace the parent NS record (exactly `previous`) with the child zone's
    /// name servers, in one atomic batch.
    ReplaceNs {
        /// The values to delete, exactly as read.
        previous: NsRecord,
        /// TTL of the new record.
        ttl: i64,
    },
    /// Remove the parent NS record (exactly these values).
    RemoveNs {
        /// The record to delete.
        record: NsRecord,
    },
    /// Delete the child zone.
    DeleteZone {
        /// Zone ID.
        zone_id: String,
        /// Delete its records first.
        force: bool,
    },
}

/// Why a plan cannot go ahead.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum PlanError {
    /// The zone to adopt does not exist.
    #[error("the child hosted zone {zone_id} to adopt does not exist")]
    AdoptMissing {
        /// Zone ID.
        zone_id: String,
    },
    /// The parent holds an NS record this delegation did not write.
    #[error("the parent already has an NS record with other values ({existing}) that this delegation did not write")]
    ForeignRecord {
        /// What is there.
        existing: NsSet,
    },
    /// On destroy, the parent NS record is no longer what this delegation wrote.
    #[error(
        "the parent NS record was changed by someone else: expected {expected}, found {found}"
    )]
    ChangedElsewhere {
        /// What this delegation wrote.
        expected: NsSet,
        /// What is there now.
        found: NsSet,
    },
}

/// The ownership rule, in one place: an NS record at the delegated name is
/// this link's when its values are exactly what the link last wrote, or
/// exactly the name servers of the link's child zone (a record that already
/// points where the link would point it). Anything else was written by
/// someone else, and is replaced only with `allow_overwrite`.
pub fn written_by_link(
    values: &NsSet,
    last_written: Option<&NsRecord>,
    child_name_servers: Option<&NsSet>,
) -> bool {
    last_written.is_some_and(|w| &w.values == values) || child_name_servers == Some(values)
}

/// Plans an apply (create or update). An empty list means nothing to do.
pub fn plan_apply(desired: &Desired, observed: &Observed) -> Result<Vec<Action>, PlanError> {
    let mut actions = Vec::new();
    let child_ns = match (&observed.child_zone, &desired.child) {
        (Some(z), ChildZoneMode::Adopt { zone_id }) if &z.id != zone_id => {
            actions.push(Action::AdoptZone {
                zone_id: zone_id.clone(),
            });
            None
        }
        (Some(z), _) => Some(z.name_servers.clone()),
        (None, ChildZoneMode::Create) => {
            actions.push(Action::CreateZone);
            None
        }
        (None, ChildZoneMode::Adopt { zone_id }) => {
            return Err(PlanError::AdoptMissing {
                zone_id: zone_id.clone(),
            })
        }
    };
    match &observed.parent_record {
        None => actions.push(Action::WriteNs { ttl: desired.ttl }),
        Some(current) => {
            let ours = |values: &NsSet| {
                written_by_link(values, observed.last_written.as_ref(), child_ns.as_ref())
            };
            let up_to_date =
                child_ns.as_ref() == Some(&current.values) && current.ttl == desired.ttl;
            if !up_to_date {
                if !(ours(&current.values) || desired.allow_overwrite) {
                    return Err(PlanError::ForeignRecord {
                        existing: current.values.clone(),
                    });
                }
                actions.push(Action::ReplaceNs {
                    previous: current.clone(),
                    ttl: desired.ttl,
                });
            }
        }
    }
    Ok(actions)
}

/// Plans a destroy: remove the parent record first (only what this
/// delegation wrote), then the child zone if this delegation created it.
pub fn plan_destroy(
    observed: &Observed,
    created_zone: bool,
    force_destroy: bool,
) -> Result<Vec<Action>, PlanError> {
    let mut actions = Vec::new();
    if let Some(current) = &observed.parent_record {
        let mine = written_by_link(
            &current.values,
            observed.last_written.as_ref(),
            observed.child_zone.as_ref().map(|z| &z.name_servers),
        );
        if !mine {
            return Err(PlanError::ChangedElsewhere {
                expected: observed
                    .last_written
                    .as_ref()
                    .map(|w| w.values.clone())
                    .unwrap_or_default(),
                found: current.values.clone(),
            });
        }
        actions.push(Action::RemoveNs {
            record: current.clone(),
        });
    }
    if created_zone {
        if let Some(z) = &observed.child_zone {
            actions.push(Action::DeleteZone {
                zone_id: z.id.clone(),
                force: force_destroy,
            });
        }
    }
    Ok(actions)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ns(v: &[&str]) -> NsSet {
        NsSet::parse(v).unwrap()
    }
    fn rec(ttl: i64, v: &[&str]) -> NsRecord {
        NsRecord { ttl, values: ns(v) }
    }
    fn zone(id: &str, v: &[&str]) -> ObservedZone {
        ObservedZone {
            id: id.into(),
            name_servers: ns(v),
        }
    }
    fn want(ttl: i64) -> Desired {
        Desired {
            ttl,
            child: ChildZoneMode::Create,
            allow_overwrite: false,
        }
    }
    const NEW: &[&str] = &["ns-1.awsdns-01.com", "ns-2.awsdns-02.net"];
    const OLD: &[&str] = &["ns-9.awsdns-09.com", "ns-8.awsdns-08.net"];
    const OTHER: &[&str] = &["ns1.elsewhere.net"];

    #[test]
    fn fresh_delegation_creates_zone_then_writes_ns() {
        let plan = plan_apply(&want(3600), &Observed::default()).unwrap();
        assert_eq!(
            plan,
            vec![Action::CreateZone, Action::WriteNs { ttl: 3600 }]
        );
    }

    #[test]
    fn in_sync_delegation_plans_nothing() {
        let obs = Observed {
            child_zone: Some(zone("Z1", NEW)),
            parent_record: Some(rec(3600, NEW)),
            last_written: Some(rec(3600, NEW)),
        };
        assert_eq!(plan_apply(&want(3600), &obs).unwrap(), vec![]);
    }

    #[test]
    fn recreated_child_zone_repoints_our_stale_record() {
        // Guards: child zone deleted and re-created, parent still at old servers.
        let obs = Observed {
            child_zone: Some(zone("Z2", NEW)),
            parent_record: Some(rec(3600, OLD)),
            last_written: Some(rec(3600, OLD)),
        };
        assert_eq!(
            plan_apply(&want(3600), &obs).unwrap(),
            vec![Action::ReplaceNs {
                previous: rec(3600, OLD),
                ttl: 3600
            }]
        );
    }

    #[test]
    fn ttl_change_replaces_in_place() {
        let obs = Observed {
            child_zone: Some(zone("Z1", NEW)),
            parent_record: Some(rec(3600, NEW)),
            last_written: Some(rec(3600, NEW)),
        };
        assert_eq!(
            plan_apply(&want(300), &obs).unwrap(),
            vec![Action::ReplaceNs {
                previous: rec(3600, NEW),
                ttl: 300
            }]
        );
    }

    /// The one ownership rule every caller asks: what the link last wrote,
    /// or exactly the child zone's servers, is the link's; anything else,
    /// including a superset of either, is someone else's.
    #[test]
    fn written_by_link_is_what_was_written_or_the_child_zones_servers() {
        let theirs = ns(&["ns1.other-dns.net"]);
        let both: Vec<&str> = NEW.iter().chain(OLD).copied().collect();
        let cases: [(NsSet, Option<NsRecord>, Option<NsSet>, bool); 6] = [
            (ns(OLD), Some(rec(3600, OLD)), None, true),
            (ns(NEW), None, Some(ns(NEW)), true),
            (ns(NEW), Some(rec(3600, OLD)), Some(ns(NEW)), true),
            (theirs.clone(), Some(rec(3600, OLD)), Some(ns(NEW)), false),
            (ns(&both), Some(rec(3600, OLD)), Some(ns(NEW)), false),
            (theirs, None, None, false),
        ];
        for (values, written, child, want) in cases {
            assert_eq!(
                written_by_link(&values, written.as_ref(), child.as_ref()),
                want,
                "{values} written {written:?} child {child:?}"
            );
        }
    }

    #[test]
    fn foreign_record_is_never_overwritten_unless_allowed() {
        // Guards: overwriting an NS record someone else wrote.
        let obs = Observed {
            child_zone: Some(zone("Z1", NEW)),
            parent_record: Some(rec(300, OTHER)),
            last_written: Some(rec(3600, NEW)),
        };
        assert_eq!(
            plan_apply(&want(3600), &obs),
            Err(PlanError::ForeignRecord {
                existing: ns(OTHER)
            })
        );
        let allowed = Desired {
            allow_overwrite: true,
            ..want(3600)
        };
        assert_eq!(
            plan_apply(&allowed, &obs).unwrap(),
            vec![Action::ReplaceNs {
                previous: rec(300, OTHER),
                ttl: 3600
            }]
        );
        // Creating a zone next to a foreign record is refused before any zone is made.
        let fresh = Observed {
            parent_record: Some(rec(300, OTHER)),
            ..Default::default()
        };
        assert!(matches!(
            plan_apply(&want(3600), &fresh),
            Err(PlanError::ForeignRecord { .. })
        ));
    }

    #[test]
    fn adopting_a_missing_zone_fails_before_anything_changes() {
        let d = Desired {
            child: ChildZoneMode::Adopt {
                zone_id: "ZGONE".into(),
            },
            ..want(3600)
        };
        assert_eq!(
            plan_apply(&d, &Observed::default()),
            Err(PlanError::AdoptMissing {
                zone_id: "ZGONE".into()
            })
        );
    }

    #[test]
    fn adopting_an_existing_zone_with_record_already_right_is_a_noop() {
        let d = Desired {
            child: ChildZoneMode::Adopt {
                zone_id: "Z1".into(),
            },
            ..want(3600)
        };
        let obs = Observed {
            child_zone: Some(zone("Z1", NEW)),
            parent_record: Some(rec(3600, NEW)),
            last_written: None,
        };
        assert_eq!(plan_apply(&d, &obs).unwrap(), vec![]);
    }

    #[test]
    fn destroy_removes_record_before_zone() {
        // Guards: a parent NS record left pointing at a deleted zone.
        let obs = Observed {
            child_zone: Some(zone("Z1", NEW)),
            parent_record: Some(rec(3600, NEW)),
            last_written: Some(rec(3600, NEW)),
        };
        assert_eq!(
            plan_destroy(&obs, true, false).unwrap(),
            vec![
                Action::RemoveNs {
                    record: rec(3600, NEW)
                },
                Action::DeleteZone {
                    zone_id: "Z1".into(),
                    force: false
                }
            ]
        );
        // An adopted zone is never deleted.
        assert_eq!(
            plan_destroy(&obs, false, false).unwrap(),
            vec![Action::RemoveNs {
                record: rec(3600, NEW)
            }]
        );
    }

    #[test]
    fn destroy_with_everything_gone_is_nothing() {
        assert_eq!(
            plan_destroy(&Observed::default(), true, false).unwrap(),
            vec![]
        );
    }

    #[test]
    fn destroy_refuses_to_remove_someone_elses_record() {
        let obs = Observed {
            child_zone: Some(zone("Z1", NEW)),
            parent_record: Some(rec(300, OTHER)),
            last_written: Some(rec(3600, NEW)),
        };
        assert_eq!(
            plan_destroy(&obs, true, false),
            Err(PlanError::ChangedElsewhere {
                expected: ns(NEW),
                found: ns(OTHER)
            })
        );
    }
}
