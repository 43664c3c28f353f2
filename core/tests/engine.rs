//! The delegation engine against the local world: the user's story from
//! create to destroy, and each way delegations go wrong.

mod support;

use std::time::Duration;

use r53world::{Fault, Operation, PARENT_ACCOUNT};
use route53delegation::delegation::{VerifyStatus, ZoneRef};
use route53delegation::record::{self, NsRecord};
use route53delegation::{CancellationToken, DomainName, Error, NsSet};
use support::*;

fn ns_in_parent(f: &Fixture, name: &str) -> Option<Vec<String>> {
    let zone = f
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == f.parent_zone_id)?;
    let fq = format!("{name}.");
    zone.records
        .iter()
        .find(|r| r.name == fq && r.rtype == r53world::RrType::Ns)
        .map(|r| r.values.clone())
}

fn child_zones(f: &Fixture, account: &str, name: &str) -> Vec<r53world::ZoneInfo> {
    let fq = format!("{name}.");
    f.world
        .zones(account)
        .into_iter()
        .filter(|z| z.name == fq)
        .collect()
}

fn writes(f: &Fixture) -> u64 {
    f.world
        .call_counts()
        .iter()
        .filter(|((_, op), _)| {
            *op == Operation::ChangeResourceRecordSets || *op == Operation::CreateHostedZone
        })
        .map(|(_, n)| n)
        .sum()
}

#[tokio::test]
async fn create_verify_reapply_destroy() {
    let f = fixture().await;
    let spec = spec("api.example.com");
    let cancel = CancellationToken::new();

    let applied = f
        .engine
        .apply(&spec, None, T, &cancel)
        .await
        .expect("apply");
    let st = applied.state;
    assert_eq!(st.parent_zone_id, f.parent_zone_id);
    assert_eq!(st.name_servers.len(), 4, "a new zone has four name servers");
    assert_eq!(
        st.delegated.as_ref().map(|d| &d.values),
        Some(&st.name_servers)
    );
    let v = st.verification.as_ref().unwrap();
    assert_eq!(v.status, VerifyStatus::Verified);
    assert!(
        v.servers_checked >= 8,
        "parent and child servers checked: {}",
        v.servers_checked
    );
    let report = applied.report.expect("report");
    assert!(report.passed, "{}", report.render());

    // The parent record holds exactly the child's servers, with the TTL asked for.
    let values = NsSet::parse(ns_in_parent(&f, "api.example.com").unwrap()).unwrap();
    assert_eq!(values, st.name_servers);
    assert_eq!(child_zones(&f, CHILD, "api.example.com").len(), 1);

    // Read shows no drift; a second apply writes nothing.
    let read = f.engine.read(&spec, &st).await.unwrap();
    assert_eq!(
        read.state.as_ref(),
        Some(&st),
        "warnings: {:?}",
        read.warnings
    );
    assert!(read.warnings.is_empty(), "{:?}", read.warnings);
    let before = writes(&f);
    let again = f
        .engine
        .apply(&spec, Some(&st), T, &cancel)
        .await
        .expect("re-apply");
    assert_eq!(writes(&f), before, "an in-sync delegation writes nothing");
    assert_eq!(again.state.child_zone_id, st.child_zone_id);

    // Destroy removes the parent record first, then the zone it created.
    f.engine
        .destroy(&spec, &st, T, &cancel)
        .await
        .expect("destroy");
    assert_eq!(ns_in_parent(&f, "api.example.com"), None);
    assert!(child_zones(&f, CHILD, "api.example.com").is_empty());
    // Deleting what is already gone succeeds.
    f.engine
        .destroy(&spec, &st, T, &cancel)
        .await
        .expect("destroy again");
}

#[tokio::test]
async fn ttl_change_updates_in_place() {
    let f = fixture().await;
    let mut spec = spec("ttl.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    spec.ttl = 900;
    let st2 = f.engine.apply(&spec, Some(&st), T, &c).await.unwrap().state;
    assert_eq!(st2.child_zone_id, st.child_zone_id, "same zone");
    assert_eq!(st2.delegated.unwrap().ttl, 900);
}

#[tokio::test]
async fn recreated_child_zone_is_detected_and_repointed() {
    // Guards: the child zone deleted and re-created, so the parent points at
    // the old name servers and resolution breaks silently.
    let f = fixture().await;
    let spec = spec("re.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let console = console(&f.world, CHILD);
    console
        .delete_hosted_zone()
        .id(&st.child_zone_id)
        .send()
        .await
        .unwrap();
    let new_id = create_zone_as(&f.world, CHILD, "re.example.com").await;

    let read = f.engine.read(&spec, &st).await.unwrap();
    let drifted = read
        .state
        .expect("still in state: a zone of the name exists");
    assert_eq!(drifted.child_zone_id, new_id);
    assert_ne!(
        drifted.name_servers, st.name_servers,
        "a re-created zone has other servers"
    );
    assert_eq!(
        drifted.delegated.as_ref().unwrap().values,
        st.name_servers,
        "parent still at the old ones"
    );
    assert!(
        read.warnings
            .iter()
            .any(|w| w.contains("was deleted") && w.contains(&new_id)),
        "{:?}",
        read.warnings
    );

    let fixed = f
        .engine
        .apply(&spec, Some(&drifted), T, &c)
        .await
        .expect("repair")
        .state;
    assert_eq!(fixed.delegated.unwrap().values, drifted.name_servers);
    assert_eq!(fixed.verification.unwrap().status, VerifyStatus::Verified);
}

#[tokio::test]
async fn deleted_child_zone_is_repaired_with_a_new_zone() {
    // Guards (issue 10 item 3): a child zone deleted (not re-created) making
    // plan refuse the link's own record as "written by someone else", and
    // the parent left pointing at a zone that no longer exists.
    let f = fixture().await;
    let spec = spec("gone.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    console(&f.world, CHILD)
        .delete_hosted_zone()
        .id(&st.child_zone_id)
        .send()
        .await
        .unwrap();
    let read = f.engine.read(&spec, &st).await.unwrap();
    let kept = read
        .state
        .expect("the link keeps its state: the record is its own");
    assert_eq!(kept.child_zone_id, "", "no zone now");
    assert!(kept.name_servers.is_empty());
    assert_eq!(
        kept.written, st.written,
        "what the link wrote is remembered"
    );
    assert!(
        read.warnings
            .iter()
            .any(|w| w.contains("takeover") && w.contains("apply creates a new zone")),
        "dangling delegation named, repair announced: {:?}",
        read.warnings
    );
    let fixed = f
        .engine
        .apply(&spec, Some(&kept), T, &c)
        .await
        .expect("repair")
        .state;
    let zones = child_zones(&f, CHILD, "gone.example.com");
    assert_eq!(zones.len(), 1, "one new zone");
    assert_eq!(fixed.child_zone_id, zones[0].id);
    assert_ne!(fixed.child_zone_id, st.child_zone_id);
    assert!(fixed.zone_owned, "the link created it");
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "gone.example.com").unwrap()).unwrap(),
        fixed.name_servers,
        "the parent points at the new zone, not at the deleted one"
    );
    assert_eq!(fixed.verification.unwrap().status, VerifyStatus::Verified);
}

#[tokio::test]
async fn zone_recreated_by_hand_is_adopted_and_never_deleted() {
    // Guards (issue 10 item 4): a zone someone re-created by hand silently
    // taken over: its comment rewritten and the zone deleted on destroy.
    let f = fixture().await;
    let mut spec = spec("hand.example.com");
    spec.child.comment = Some("managed by the link".into());
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let console = console(&f.world, CHILD);
    console
        .delete_hosted_zone()
        .id(&st.child_zone_id)
        .send()
        .await
        .unwrap();
    let by_hand = console
        .create_hosted_zone()
        .name("hand.example.com.")
        .caller_reference("console-hand-1")
        .hosted_zone_config(
            aws_sdk_route53::types::HostedZoneConfig::builder()
                .comment("made by hand")
                .build(),
        )
        .send()
        .await
        .unwrap();
    let hand_id = by_hand
        .hosted_zone()
        .unwrap()
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    let read = f.engine.read(&spec, &st).await.unwrap();
    let drifted = read.state.unwrap();
    assert_eq!(drifted.child_zone_id, hand_id);
    assert!(!drifted.zone_owned, "adopted, not owned");
    assert!(
        read.warnings
            .iter()
            .any(|w| w.contains("adopted") && w.contains("destroy will not delete it")),
        "{:?}",
        read.warnings
    );
    let fixed = f
        .engine
        .apply(&spec, Some(&drifted), T, &c)
        .await
        .unwrap()
        .state;
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "hand.example.com").unwrap()).unwrap(),
        fixed.name_servers,
        "re-pointed to the zone that exists"
    );
    let zone = console.get_hosted_zone().id(&hand_id).send().await.unwrap();
    assert_eq!(
        zone.hosted_zone().unwrap().config().unwrap().comment(),
        Some("made by hand"),
        "comment left alone"
    );
    f.engine.destroy(&spec, &fixed, T, &c).await.unwrap();
    assert_eq!(ns_in_parent(&f, "hand.example.com"), None, "record removed");
    assert_eq!(
        child_zones(&f, CHILD, "hand.example.com").len(),
        1,
        "the hand-made zone survives destroy"
    );
}

#[tokio::test]
async fn deleted_parent_record_is_detected_and_rewritten() {
    let f = fixture().await;
    let spec = spec("norec.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let parent = console(&f.world, PARENT_ACCOUNT);
    let name = DomainName::parse("norec.example.com").unwrap();
    let cur = record::read_ns(&parent, &f.parent_zone_id, &name)
        .await
        .unwrap()
        .unwrap();
    record::delete_ns(&parent, &f.parent_zone_id, &name, &cur)
        .await
        .unwrap();
    let read = f.engine.read(&spec, &st).await.unwrap();
    let s = read.state.unwrap();
    assert_eq!(s.delegated, None);
    assert!(
        read.warnings.iter().any(|w| w.contains("has no NS record")),
        "{:?}",
        read.warnings
    );
    let fixed = f.engine.apply(&spec, Some(&s), T, &c).await.unwrap().state;
    assert_eq!(fixed.delegated.unwrap().values, fixed.name_servers);
}

#[tokio::test]
async fn foreign_record_is_not_overwritten_unless_allowed() {
    // Guards: overwriting an NS record that someone else wrote.
    let f = fixture().await;
    let parent = console(&f.world, PARENT_ACCOUNT);
    let name = DomainName::parse("taken.example.com").unwrap();
    let theirs = NsRecord {
        ttl: 600,
        values: NsSet::parse(["ns1.other-dns.net", "ns2.other-dns.net"]).unwrap(),
    };
    put_ns(&parent, &f.parent_zone_id, &name, &theirs, None)
        .await
        .unwrap();
    let mut spec = spec("taken.example.com");
    let c = CancellationToken::new();

    let pre = f.engine.preflight(&spec, None).await.unwrap_err();
    assert!(matches!(pre, Error::ForeignRecord { .. }), "{pre}");
    let zones_before = f.world.zones(CHILD).len();
    let err = f.engine.apply(&spec, None, T, &c).await.unwrap_err();
    assert!(err.to_string_contains("allow_overwrite"), "{}", err.error);
    assert!(err.partial.is_none());
    assert_eq!(
        f.world.zones(CHILD).len(),
        zones_before,
        "nothing half-created"
    );
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "taken.example.com").unwrap()).unwrap(),
        theirs.values
    );

    spec.parent.allow_overwrite = true;
    let st = f
        .engine
        .apply(&spec, None, T, &c)
        .await
        .expect("overwrite allowed")
        .state;
    assert_eq!(st.delegated.unwrap().values, st.name_servers);
}

trait ContainsExt {
    fn to_string_contains(&self, s: &str) -> bool;
}
impl ContainsExt for Box<route53delegation::delegation::ApplyFailure> {
    fn to_string_contains(&self, s: &str) -> bool {
        self.error.to_string().contains(s)
    }
}

/// Guards: losing someone else's concurrent change. Apply reads the parent
/// record and replaces it (here a record it may take over) with one batch
/// that DELETEs exactly what it read; someone changes the record while that
/// batch is on its way (the world holds the call until they have), so Route
/// 53 refuses it: apply fails saying what is there now, and their change
/// survives, neither overwritten nor retried without the DELETE.
#[tokio::test]
async fn concurrent_change_makes_the_atomic_replace_fail() {
    let f = fixture().await;
    let parent = console(&f.world, PARENT_ACCOUNT);
    let name = DomainName::parse("race.example.com").unwrap();
    let first = NsRecord {
        ttl: 300,
        values: NsSet::parse(["ns1.a.net"]).unwrap(),
    };
    let theirs = NsRecord {
        ttl: 300,
        values: NsSet::parse(["ns1.b.net"]).unwrap(),
    };
    put_ns(&parent, &f.parent_zone_id, &name, &first, None)
        .await
        .unwrap();
    let mut spec = spec("race.example.com");
    spec.parent.allow_overwrite = true;
    let writes_before = f
        .world
        .calls(PARENT_ACCOUNT, Operation::ChangeResourceRecordSets);
    let held = f.world.hold_next(Operation::ChangeResourceRecordSets);
    let c = CancellationToken::new();
    let err = {
        let apply = f.engine.apply(&spec, None, T, &c);
        tokio::pin!(apply);
        tokio::select! {
            r = &mut apply => panic!(
                "apply ended before its parent write reached Route 53: {:?}",
                r.map(|o| o.state)
            ),
            () = held.arrived() => {}
        }
        // The engine's batch (DELETE `first`, CREATE its own) is on the
        // wire: someone else replaces `first` now, then the batch goes on.
        put_ns(&parent, &f.parent_zone_id, &name, &theirs, Some(&first))
            .await
            .expect("their write");
        held.release();
        apply.await.unwrap_err()
    };
    // Guards (issue 10 item 6): Route 53's raw InvalidChangeBatch text
    // instead of what was found, what was expected and what to do.
    assert!(
        matches!(err.error, Error::RecordChanged { .. }),
        "{}",
        err.error
    );
    let msg = err.error.to_string();
    assert!(
        msg.starts_with("writing NS record race.example.com in parent zone"),
        "{msg}"
    );
    assert!(
        msg.contains("expected [ns1.a.net]") && msg.contains("found [ns1.b.net]"),
        "{msg}"
    );
    assert!(msg.contains("run terraform plan"), "says what to do: {msg}");
    assert!(!msg.contains("InvalidChangeBatch"), "{msg}");
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "race.example.com").unwrap()).unwrap(),
        theirs.values,
        "their change survives"
    );
    assert_eq!(
        f.world
            .calls(PARENT_ACCOUNT, Operation::ChangeResourceRecordSets)
            - writes_before,
        2,
        "the refused batch and theirs: nothing written again without the DELETE"
    );
    let partial = err.partial.expect("the child zone made is in the state");
    assert!(!partial.child_zone_id.is_empty());
    assert_ne!(
        partial.delegated.map(|d| d.values),
        Some(partial.name_servers),
        "the state does not claim a record apply never wrote"
    );
}

#[tokio::test]
async fn destroy_refuses_to_remove_a_record_changed_by_someone_else() {
    let f = fixture().await;
    let spec = spec("changed.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let parent = console(&f.world, PARENT_ACCOUNT);
    let name = DomainName::parse("changed.example.com").unwrap();
    let theirs = NsRecord {
        ttl: 300,
        values: NsSet::parse(["ns1.other-dns.net"]).unwrap(),
    };
    put_ns(
        &parent,
        &f.parent_zone_id,
        &name,
        &theirs,
        st.delegated.as_ref(),
    )
    .await
    .unwrap();
    let err = f.engine.destroy(&spec, &st, T, &c).await.unwrap_err();
    let msg = err.to_string();
    assert!(matches!(err, Error::RecordChanged { .. }), "{msg}");
    assert!(
        msg.contains("ns1.other-dns.net")
            && msg.contains(st.name_servers.iter().next().unwrap().as_str()),
        "{msg}"
    );
    assert_eq!(
        child_zones(&f, CHILD, "changed.example.com").len(),
        1,
        "zone kept"
    );
}

#[tokio::test]
async fn zone_with_records_is_kept_unless_force_destroy() {
    // Guards (issue 10 item 1): destroy removing the parent NS record, then
    // refusing to delete the zone: a live zone left undelegated and the
    // subdomain no longer resolving.
    let f = fixture().await;
    let mut spec = spec("full.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let child = console(&f.world, CHILD);
    let www = NsRecord {
        ttl: 300,
        values: NsSet::parse(["ns1.x.net"]).unwrap(),
    };
    put_ns(
        &child,
        &st.child_zone_id,
        &DomainName::parse("www.full.example.com").unwrap(),
        &www,
        None,
    )
    .await
    .unwrap();
    let writes_before = writes(&f);
    let err = f.engine.destroy(&spec, &st, T, &c).await.unwrap_err();
    assert!(matches!(err.root(), Error::ZoneNotEmpty { .. }), "{err}");
    let msg = err.to_string();
    assert!(
        msg.contains("www.full.example.com NS"),
        "names the records: {msg}"
    );
    assert!(
        msg.contains("nothing was changed"),
        "says what was done: {msg}"
    );
    // Refused before the first write: the delegation still works.
    assert_eq!(writes(&f), writes_before, "no write at all");
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "full.example.com").unwrap()).unwrap(),
        st.name_servers,
        "the parent record is kept"
    );
    assert_eq!(child_zones(&f, CHILD, "full.example.com").len(), 1);
    let again = f.engine.read(&spec, &st).await.unwrap();
    assert!(again.warnings.is_empty(), "{:?}", again.warnings);

    spec.child.force_destroy = true;
    f.engine
        .destroy(&spec, &st, T, &c)
        .await
        .expect("force destroy");
    assert!(child_zones(&f, CHILD, "full.example.com").is_empty());
    assert_eq!(ns_in_parent(&f, "full.example.com"), None);
}

#[tokio::test]
async fn adopting_an_existing_zone_never_deletes_it() {
    let f = fixture().await;
    let id = create_zone_as(&f.world, CHILD, "adopt.example.com").await;
    let mut spec = spec("adopt.example.com");
    spec.child.zone_id = Some(id.clone());
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    assert_eq!(st.child_zone_id, id);
    f.engine.destroy(&spec, &st, T, &c).await.unwrap();
    assert_eq!(ns_in_parent(&f, "adopt.example.com"), None);
    assert_eq!(
        child_zones(&f, CHILD, "adopt.example.com").len(),
        1,
        "adopted zone kept"
    );

    spec.child.zone_id = Some("ZNOSUCHZONE123".into());
    let err = f.engine.apply(&spec, None, T, &c).await.unwrap_err();
    assert!(
        err.error.to_string().contains("child.zone_id"),
        "{}",
        err.error
    );
}

#[tokio::test]
async fn interrupted_create_adopts_the_zone_it_made() {
    // Guards: a leaked second zone after a crash or retry between
    // CreateHostedZone and saving state.
    let f = fixture().await;
    let spec = spec("crash.example.com");
    let child = console(&f.world, CHILD);
    let name = DomainName::parse("crash.example.com").unwrap();
    let prefix = route53delegation::zone::caller_reference_prefix(&name, &f.parent_zone_id);
    let first = route53delegation::zone::create_zone(&child, &name, &prefix, None)
        .await
        .unwrap();
    assert!(!first.recovered);
    // The "crashed" run never saved state; the next apply starts from nothing.
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    assert_eq!(
        st.child_zone_id, first.zone.id,
        "the earlier zone was adopted"
    );
    assert_eq!(
        child_zones(&f, CHILD, "crash.example.com").len(),
        1,
        "no second zone"
    );
}

#[tokio::test]
async fn parent_by_id_name_not_under_it_and_ambiguous_names() {
    let f = fixture().await;
    let mut s = spec("api.example.org");
    s.parent.zone = ZoneRef::Id(f.parent_zone_id.clone());
    let c = CancellationToken::new();
    let err = f.engine.apply(&s, None, T, &c).await.unwrap_err();
    assert!(
        matches!(err.error, Error::NotUnderParent { .. }),
        "{}",
        err.error
    );
    assert_eq!(
        err.error.to_string(),
        "name api.example.org is not a subdomain of the parent zone example.com"
    );

    // A second public example.com makes lookups by name ambiguous.
    let other = create_zone_as(&f.world, PARENT_ACCOUNT, "example.com").await;
    let s = spec("amb.example.com");
    // A new engine (a new Terraform command): parent zone lookups are cached
    // for the life of one.
    let engine = engine_for(&f.world);
    let err = engine.apply(&s, None, T, &c).await.unwrap_err();
    let msg = err.error.to_string();
    assert!(matches!(err.error, Error::AmbiguousZone { .. }), "{msg}");
    assert!(
        msg.contains(&other) && msg.contains(&f.parent_zone_id) && msg.contains("zone_id"),
        "{msg}"
    );
}

#[tokio::test]
async fn least_privilege_parent_role_and_denied_roles() {
    let f = fixture().await;
    let c = CancellationToken::new();
    // The parent role may only change NS records under example.com: enough.
    let st = f
        .engine
        .apply(&spec("lp.example.com"), None, T, &c)
        .await
        .unwrap()
        .state;
    assert_eq!(st.verification.unwrap().status, VerifyStatus::Verified);

    // A role whose trust does not allow the caller.
    let mut s = spec("denied.example.com");
    s.child.account = role("arn:aws:iam::222222222222:role/no-such-role");
    let err = f.engine.apply(&s, None, T, &c).await.unwrap_err();
    let msg = err.error.to_string();
    assert!(matches!(err.error, Error::AssumeRole { .. }), "{msg}");
    assert!(
        msg.starts_with("assuming role arn:aws:iam::222222222222:role/no-such-role: "),
        "{msg}"
    );
    assert!(
        msg.contains("AccessDenied") && msg.contains("trust policy"),
        "{msg}"
    );

    // External ID: required and wrong vs right.
    let mut s = spec("ext.example.com");
    s.child.account = role("arn:aws:iam::222222222222:role/delegation-child-ext");
    let err = f.engine.apply(&s, None, T, &c).await.unwrap_err();
    assert!(
        matches!(err.error, Error::AssumeRole { .. }),
        "{}",
        err.error
    );
    if let Some(r) = s.child.account.assume_role.as_mut() {
        r.external_id = Some("ext-secret-123".into());
    }
    f.engine
        .apply(&s, None, T, &c)
        .await
        .expect("external id matches");
}

#[tokio::test]
async fn assume_role_access_denied_is_retried_for_iam_propagation() {
    let f = fixture().await;
    let arn = child_role("333333333333");
    f.world.fail_assume_role(&arn, 2);
    let mut s = spec("iam.example.com");
    s.child.account = role(&arn);
    let c = CancellationToken::new();
    let st = f
        .engine
        .apply(&s, None, T, &c)
        .await
        .expect("third AssumeRole succeeds")
        .state;
    assert!(!st.child_zone_id.is_empty());
}

#[tokio::test]
async fn throttling_and_prior_request_not_complete_are_retried() {
    let f = fixture().await;
    f.world
        .inject_fault(Operation::ChangeResourceRecordSets, Fault::Throttling, 2);
    f.world
        .inject_fault(Operation::GetChange, Fault::PriorRequestNotComplete, 1);
    f.world
        .inject_fault(Operation::CreateHostedZone, Fault::InternalFailure, 1);
    let c = CancellationToken::new();
    let st = f
        .engine
        .apply(&spec("retry.example.com"), None, T, &c)
        .await
        .expect("retried")
        .state;
    assert_eq!(st.verification.unwrap().status, VerifyStatus::Verified);
    assert_eq!(
        child_zones(&f, CHILD, "retry.example.com").len(),
        1,
        "a retried create leaks no zone"
    );
}

#[tokio::test]
async fn clients_are_built_once_per_account_setting() {
    let f = fixture().await;
    let c = CancellationToken::new();
    for n in ["a.example.com", "b.example.com", "c.example.com"] {
        f.engine.apply(&spec(n), None, T, &c).await.unwrap();
    }
    assert_eq!(
        f.engine.clients().built(),
        2,
        "one parent and one child client"
    );
}

#[tokio::test]
async fn verification_failure_returns_partial_state_and_names_the_cause() {
    // Guards: calling a delegation done that does not verify, and leaking
    // what apply created when it fails.
    let f = fixture().await;
    let id = create_zone_as(&f.world, CHILD, "lame.example.com").await;
    // Someone edited the child's apex NS record: its servers now disagree
    // with the delegation.
    let child = console(&f.world, CHILD);
    let apex = DomainName::parse("lame.example.com").unwrap();
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let mut rrs = ResourceRecordSet::builder()
        .name(apex.fqdn())
        .r#type(RrType::Ns)
        .ttl(172800);
    for v in ["ns1.elsewhere.net.", "ns2.elsewhere.net."] {
        rrs = rrs.resource_records(ResourceRecord::builder().value(v).build().unwrap());
    }
    let change = Change::builder()
        .action(ChangeAction::Upsert)
        .resource_record_set(rrs.build().unwrap())
        .build()
        .unwrap();
    let out = child
        .change_resource_record_sets()
        .hosted_zone_id(&id)
        .change_batch(ChangeBatch::builder().changes(change).build().unwrap())
        .send()
        .await
        .unwrap();
    let cid = out.change_info().unwrap().id().to_string();
    route53delegation::change::wait_insync(
        &child,
        &cid,
        T,
        Default::default(),
        &CancellationToken::new(),
    )
    .await
    .unwrap();

    let mut s = spec("lame.example.com");
    s.child.zone_id = Some(id.clone());
    s.verify.timeout = Duration::from_secs(2);
    let c = CancellationToken::new();
    let err = f.engine.apply(&s, None, T, &c).await.unwrap_err();
    let msg = err.error.to_string();
    assert!(
        matches!(err.error, Error::VerificationFailed { .. }),
        "{msg}"
    );
    assert!(
        msg.starts_with("verifying delegation of lame.example.com: "),
        "{msg}"
    );
    let report = err.report.expect("report");
    assert!(
        report
            .findings
            .iter()
            .any(|f| f.code() == "child_ns_mismatch"),
        "{}",
        report.render()
    );
    let partial = err.partial.expect("partial state");
    assert_eq!(partial.child_zone_id, id);
    assert_eq!(partial.verification.unwrap().status, VerifyStatus::Failed);
    assert!(
        partial.written.is_some(),
        "the record written is remembered, so destroy removes it"
    );
}

#[tokio::test]
async fn a_create_cancelled_during_its_wait_keeps_the_zone_as_pending() {
    // Guards: Ctrl-C in mid-apply losing track of the zone just created,
    // and (issue 19 item 7) a create interrupted during its INSYNC wait
    // failing, so Terraform tainted the link and the next apply replaced
    // the zone with a new one.
    let f = fixture().await;
    f.world.set_insync_delay(Duration::from_secs(600));
    let link = spec("cancel.example.com");
    let c = CancellationToken::new();
    let interrupt = async {
        // The zone made and the parent record written: the wait is next.
        while ns_in_parent(&f, "cancel.example.com").is_none() {
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        c.cancel();
    };
    let (applied, ()) = tokio::join!(f.engine.apply(&link, None, T, &c), interrupt);
    let applied = applied.expect("an interrupted create ends with the state reached");
    let st = applied.state;
    assert_eq!(
        child_zones(&f, CHILD, "cancel.example.com")[0].id,
        st.child_zone_id
    );
    assert!(st.written.is_some(), "the record written is remembered");
    assert_eq!(
        st.verification.as_ref().unwrap().status,
        VerifyStatus::Pending
    );
    assert!(
        applied
            .warnings
            .iter()
            .any(|w| w.contains("was interrupted after it created hosted zone")),
        "{:?}",
        applied.warnings
    );

    // The next apply finishes on the same zone.
    f.world.set_insync_delay(Duration::ZERO);
    f.world.complete_pending_changes();
    let c = CancellationToken::new();
    let again = f.engine.apply(&link, Some(&st), T, &c).await.unwrap();
    assert_eq!(again.state.child_zone_id, st.child_zone_id);
    assert_eq!(
        again.state.verification.unwrap().status,
        VerifyStatus::Verified
    );
    assert_eq!(child_zones(&f, CHILD, "cancel.example.com").len(), 1);

    // Interrupted before anything was made: an error, with nothing to keep.
    let c = CancellationToken::new();
    c.cancel();
    let err = f
        .engine
        .apply(&spec("early.example.com"), None, T, &c)
        .await
        .unwrap_err();
    assert!(
        matches!(err.error, Error::Cancelled { .. }),
        "{}",
        err.error
    );
    assert!(err.partial.is_none());
    assert!(child_zones(&f, CHILD, "early.example.com").is_empty());
}

#[tokio::test]
async fn plan_time_checks_do_not_read_the_whole_parent_zone() {
    // Guards: Route 53 throttling on big parent zones: the occlusion scan
    // reads only the delegated name's subtree.
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    let f = fixture().await;
    let parent = console(&f.world, PARENT_ACCOUNT);
    let mut batch = ChangeBatch::builder();
    for i in 0..400 {
        let rrs = ResourceRecordSet::builder()
            .name(format!("host{i:03}.example.com."))
            .r#type(RrType::A)
            .ttl(300)
            .resource_records(
                ResourceRecord::builder()
                    .value("127.0.0.1")
                    .build()
                    .unwrap(),
            )
            .build()
            .unwrap();
        batch = batch.changes(
            Change::builder()
                .action(ChangeAction::Create)
                .resource_record_set(rrs)
                .build()
                .unwrap(),
        );
    }
    parent
        .change_resource_record_sets()
        .hosted_zone_id(&f.parent_zone_id)
        .change_batch(batch.build().unwrap())
        .send()
        .await
        .unwrap();
    let lrrs = |f: &Fixture| {
        f.world
            .call_counts()
            .iter()
            .filter(|((_, op), _)| *op == Operation::ListResourceRecordSets)
            .map(|(_, n)| *n)
            .sum::<u64>()
    };
    let before = lrrs(&f);
    f.engine
        .preflight(&spec("app.example.com"), None)
        .await
        .unwrap();
    assert_eq!(
        lrrs(&f) - before,
        2,
        "one read of the NS record, one page of the subtree"
    );
}

#[tokio::test]
async fn moving_to_another_child_account_creates_repoints_then_deletes_the_old_zone() {
    // Guards (issue 10 item 2): a change of child account applied as a
    // no-op on the zone: the old zone left behind with its records,
    // unmanaged, and state that differs from the plan.
    let f = fixture().await;
    let mut spec = spec("team.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let old_id = st.child_zone_id.clone();

    let old_account = spec.child.account.clone();
    spec.child.account = role(&child_role("333333333333"));
    let prior = route53delegation::LinkState {
        child_account: Some(old_account),
        ..st.clone()
    };
    let moved = f
        .engine
        .apply(&spec, Some(&prior), T, &c)
        .await
        .expect("move")
        .state;
    let new_zones = child_zones(&f, "333333333333", "team.example.com");
    assert_eq!(new_zones.len(), 1, "the new zone is in the new account");
    assert_eq!(moved.child_zone_id, new_zones[0].id);
    assert_ne!(moved.child_zone_id, old_id);
    assert!(moved.zone_owned);
    assert_eq!(moved.child_account, None);
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "team.example.com").unwrap()).unwrap(),
        moved.name_servers,
        "the parent points at the new zone"
    );
    assert_eq!(moved.written.as_ref().unwrap().values, moved.name_servers);
    assert_eq!(moved.verification.unwrap().status, VerifyStatus::Verified);
    assert!(
        child_zones(&f, CHILD, "team.example.com").is_empty(),
        "the old zone, created by the link, is deleted"
    );
}

#[tokio::test]
async fn a_move_that_would_strand_records_is_refused_before_any_write() {
    // Guards (issue 10 items 1 and 2): a move that deletes (or leaks) an old
    // zone still holding records, after re-pointing the parent.
    let f = fixture().await;
    let mut spec = spec("keep.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    put_ns(
        &console(&f.world, CHILD),
        &st.child_zone_id,
        &DomainName::parse("www.keep.example.com").unwrap(),
        &NsRecord {
            ttl: 300,
            values: NsSet::parse(["ns1.x.net"]).unwrap(),
        },
        None,
    )
    .await
    .unwrap();
    let writes_before = writes(&f);
    let old_account = spec.child.account.clone();
    spec.child.account = role(&child_role("333333333333"));
    let prior = route53delegation::LinkState {
        child_account: Some(old_account),
        ..st.clone()
    };
    let err = f
        .engine
        .apply(&spec, Some(&prior), T, &c)
        .await
        .unwrap_err();
    let msg = err.error.to_string();
    assert!(msg.contains("www.keep.example.com NS"), "{msg}");
    assert!(msg.contains("nothing was changed"), "{msg}");
    assert!(msg.contains("force_destroy"), "{msg}");
    assert_eq!(writes(&f), writes_before, "no write");
    assert!(child_zones(&f, "333333333333", "keep.example.com").is_empty());
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "keep.example.com").unwrap()).unwrap(),
        st.name_servers
    );
    assert!(
        err.partial.is_none(),
        "nothing changed: the prior state (and the account it names) stays"
    );
}

#[tokio::test]
async fn check_move_tells_at_plan_what_apply_would_refuse() {
    // Guards (issue 19 item 8): a move that apply refuses planned as a
    // change, so a pipeline finds out only after approving the plan.
    let f = fixture().await;
    let mut spec = spec("told.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let prior = route53delegation::LinkState {
        child_account: Some(spec.child.account.clone()),
        ..st.clone()
    };
    assert!(
        f.engine.check_move(&spec, &prior).await.unwrap().is_none(),
        "no move"
    );
    spec.child.account = role(&child_role("333333333333"));
    assert!(
        f.engine.check_move(&spec, &prior).await.unwrap().is_none(),
        "the old zone is empty"
    );
    put_ns(
        &console(&f.world, CHILD),
        &st.child_zone_id,
        &DomainName::parse("www.told.example.com").unwrap(),
        &NsRecord {
            ttl: 300,
            values: NsSet::parse(["ns1.x.net"]).unwrap(),
        },
        None,
    )
    .await
    .unwrap();
    let writes_before = writes(&f);
    let told = f.engine.check_move(&spec, &prior).await.unwrap();
    let msg = told.expect("refused").to_string();
    assert!(
        msg.starts_with(&format!(
            "moving the delegation of told.example.com away from hosted zone {}: ",
            st.child_zone_id
        )),
        "{msg}"
    );
    assert!(msg.contains("www.told.example.com NS"), "{msg}");
    assert!(msg.contains("copy those records to the new zone"), "{msg}");
    assert!(msg.contains("child.force_destroy = true"), "{msg}");
    assert!(!msg.ends_with('.'), "{msg}");
    let applied = f
        .engine
        .apply(&spec, Some(&prior), T, &c)
        .await
        .unwrap_err();
    assert_eq!(applied.error.to_string(), msg, "the refusal apply gives");
    assert_eq!(writes(&f), writes_before, "no write");

    // Another zone by ID: the same refusal.
    let other = create_zone_as(&f.world, CHILD, "told.example.com").await;
    let writes_before = writes(&f);
    let mut to_other = spec.clone();
    to_other.child.account = prior.child_account.clone().unwrap();
    to_other.child.zone_id = Some(other);
    assert!(f
        .engine
        .check_move(&to_other, &prior)
        .await
        .unwrap()
        .is_some());
    // force_destroy, or a zone this link did not create: apply moves.
    spec.child.force_destroy = true;
    assert!(f.engine.check_move(&spec, &prior).await.unwrap().is_none());
    spec.child.force_destroy = false;
    let adopted = route53delegation::LinkState {
        zone_owned: false,
        ..prior.clone()
    };
    assert!(f
        .engine
        .check_move(&spec, &adopted)
        .await
        .unwrap()
        .is_none());
    assert_eq!(writes(&f), writes_before, "no write");
}

#[tokio::test]
async fn adopting_another_zone_repoints_and_retires_the_created_one() {
    // Guards (issue 10 item 2): child.zone_id changed to another zone
    // planned as a replacement (destroy first: an outage) or leaking the
    // zone the link created.
    let f = fixture().await;
    let mut spec = spec("swap.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    let other = create_zone_as(&f.world, CHILD, "swap.example.com").await;
    spec.child.zone_id = Some(other.clone());
    let moved = f.engine.apply(&spec, Some(&st), T, &c).await.unwrap().state;
    assert_eq!(moved.child_zone_id, other);
    assert!(!moved.zone_owned);
    let zones = child_zones(&f, CHILD, "swap.example.com");
    assert_eq!(
        zones.len(),
        1,
        "the created zone is deleted, the adopted one kept"
    );
    assert_eq!(zones[0].id, other);
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "swap.example.com").unwrap()).unwrap(),
        moved.name_servers
    );
    // Naming the zone the link already uses changes nothing.
    let again = f.engine.apply(&spec, Some(&moved), T, &c).await.unwrap();
    assert_eq!(again.state.child_zone_id, other);
    assert!(again.report.is_none(), "nothing to verify again");
}

#[tokio::test]
async fn moving_to_another_parent_zone_writes_first_then_removes_the_old_record() {
    // Guards (issue 10 item 2): a parent zone change carried out as destroy
    // and create (the delegation gone in between, the child zone deleted).
    let f = fixture().await;
    let mut spec = spec("mv.example.com");
    spec.parent.zone = ZoneRef::Id(f.parent_zone_id.clone());
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    // The organisation moves example.com to a new hosted zone.
    let new_parent = create_zone_as(&f.world, PARENT_ACCOUNT, "example.com").await;
    f.world
        .register_domain("example.com", &new_parent)
        .await
        .unwrap();
    f.world.flush("example.com").await.unwrap();
    spec.parent.zone = ZoneRef::Id(new_parent.clone());
    let moved = f
        .engine
        .apply(&spec, Some(&st), T, &c)
        .await
        .expect("move")
        .state;
    assert_eq!(moved.parent_zone_id, new_parent);
    assert_eq!(moved.child_zone_id, st.child_zone_id, "same child zone");
    assert_eq!(
        ns_in_parent(&f, "mv.example.com"),
        None,
        "old record removed"
    );
    let in_new = f
        .world
        .zones(PARENT_ACCOUNT)
        .into_iter()
        .find(|z| z.id == new_parent)
        .unwrap()
        .records
        .into_iter()
        .find(|r| r.name == "mv.example.com." && r.rtype == r53world::RrType::Ns)
        .map(|r| NsSet::parse(r.values).unwrap());
    assert_eq!(in_new, Some(st.name_servers.clone()));
    assert_eq!(moved.verification.unwrap().status, VerifyStatus::Verified);
}

#[tokio::test]
async fn plan_time_lookups_of_things_made_later_are_warnings() {
    // Guards (issue 10 item 5): plan failing on a parent zone created in the
    // same apply, so the configuration never converges without -target.
    let f = fixture().await;
    let mut spec = spec("deep.later.example.com");
    spec.parent.zone = ZoneRef::Name(DomainName::parse("later.example.com").unwrap());
    let pre = f.engine.preflight(&spec, None).await.expect("not an error");
    assert!(pre.parent_zone.is_none());
    assert_eq!(pre.notices.len(), 1);
    assert_eq!(pre.notices[0].attribute, Some("parent.zone_name"));
    assert!(pre.notices[0]
        .detail
        .contains("no public hosted zone found"));
    // Apply still fails clearly when it is missing then.
    let err = f
        .engine
        .apply(&spec, None, T, &CancellationToken::new())
        .await
        .unwrap_err();
    assert!(
        matches!(err.error, Error::ZoneNotFound { .. }),
        "{}",
        err.error
    );
}

#[tokio::test]
async fn the_timeout_bounds_each_aws_call_not_only_the_waits() {
    // Guards (issue 10 item 8): a hung Route 53 call holding apply or
    // destroy past the configured timeout.
    let f = fixture().await;
    let spec = spec("slow.example.com");
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    f.world.inject_fault(
        Operation::ListResourceRecordSets,
        Fault::Delay(Duration::from_secs(60)),
        10,
    );
    let t0 = std::time::Instant::now();
    let err = f
        .engine
        .apply(&spec, Some(&st), Duration::from_secs(2), &c)
        .await
        .unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    assert!(matches!(err.error, Error::TimedOut { .. }), "{}", err.error);
    assert!(
        err.error.to_string().contains("timed out after 2s"),
        "{}",
        err.error
    );
    let t0 = std::time::Instant::now();
    let err = f
        .engine
        .destroy(&spec, &st, Duration::from_secs(2), &c)
        .await
        .unwrap_err();
    assert!(t0.elapsed() < Duration::from_secs(15), "{:?}", t0.elapsed());
    assert!(matches!(err.root(), Error::TimedOut { .. }), "{err}");
}

#[tokio::test]
async fn a_move_that_does_not_verify_keeps_the_old_record_in_state_until_it_does() {
    // Guards (issue 10 item 2): a move that fails verification after writing
    // the new delegation forgetting the old record or zone, so nobody
    // manages it any more.
    let f = fixture().await;
    let mut spec = spec("half.example.com");
    spec.parent.zone = ZoneRef::Id(f.parent_zone_id.clone());
    let c = CancellationToken::new();
    let st = f.engine.apply(&spec, None, T, &c).await.unwrap().state;
    // A new parent zone that the domain is not delegated to (yet).
    let new_parent = create_zone_as(&f.world, PARENT_ACCOUNT, "example.com").await;
    spec.parent.zone = ZoneRef::Id(new_parent.clone());
    spec.verify.timeout = Duration::from_secs(2);
    let err = f.engine.apply(&spec, Some(&st), T, &c).await.unwrap_err();
    let msg = err.error.to_string();
    assert!(msg.contains("kept in state"), "{msg}");
    assert!(
        msg.contains(&f.parent_zone_id),
        "names the old parent zone: {msg}"
    );
    let partial = err.partial.expect("partial state");
    assert_eq!(partial.parent_zone_id, new_parent);
    assert_eq!(partial.retired.len(), 1, "{:?}", partial.retired);
    assert_eq!(
        NsSet::parse(ns_in_parent(&f, "half.example.com").unwrap()).unwrap(),
        st.name_servers,
        "the old delegation still works"
    );
    // The domain now points at the new parent zone: the next apply verifies
    // and removes the old record.
    f.world
        .register_domain("example.com", &new_parent)
        .await
        .unwrap();
    f.world.flush("example.com").await.unwrap();
    spec.verify.timeout = Duration::from_secs(20);
    let done = f
        .engine
        .apply(&spec, Some(&partial), T, &c)
        .await
        .expect("finish the move")
        .state;
    assert!(done.retired.is_empty());
    assert_eq!(
        ns_in_parent(&f, "half.example.com"),
        None,
        "old record removed"
    );
    assert_eq!(done.verification.unwrap().status, VerifyStatus::Verified);
}

#[tokio::test]
async fn a_role_not_assumable_yet_at_plan_is_a_warning() {
    // Guards (issue 10 item 5): plan failing on a role created in the same
    // apply (IAM propagation, or the role not made yet).
    let f = fixture().await;
    f.world.fail_assume_role(PARENT_ROLE, 1000);
    let pre = f
        .engine
        .preflight(&spec("role.example.com"), None)
        .await
        .expect("a warning, not an error");
    assert!(pre.parent_zone.is_none());
    assert_eq!(pre.notices.len(), 1, "{:?}", pre.notices);
    assert_eq!(
        pre.notices[0].attribute,
        Some("parent.assume_role.role_arn")
    );
    assert!(
        pre.notices[0].detail.contains("AccessDenied"),
        "{:?}",
        pre.notices
    );
    assert!(pre.notices[0].detail.contains("apply checks again"));
    // Apply says so plainly if the role still cannot be assumed.
    let err = f
        .engine
        .apply(
            &spec("role.example.com"),
            None,
            T,
            &CancellationToken::new(),
        )
        .await
        .unwrap_err();
    assert!(
        matches!(err.error, Error::AssumeRole { .. }),
        "{}",
        err.error
    );
    assert_eq!(writes(&f), 0);
}

/// Failure mode: an apply that dies after creating the zone (a panic in the
/// provider, say) loses it, because the front end only hears of it when the
/// apply returns. Progress is reported as each object is made: here the
/// parent write then fails for good, and the zone was reported before that.
#[tokio::test]
async fn progress_reports_the_created_zone_before_the_apply_ends() {
    let f = fixture().await;
    f.world.inject_fault(
        Operation::ChangeResourceRecordSets,
        Fault::InternalFailure,
        100,
    );
    let seen = std::sync::Mutex::new(Vec::<String>::new());
    let progress = |st: &route53delegation::LinkState| {
        seen.lock().unwrap().push(st.child_zone_id.clone());
    };
    let r = f
        .engine
        .apply_with_progress(
            &spec("prog.example.com"),
            None,
            // Long enough to create the zone, short enough not to wait out
            // the retries of the failing write.
            Duration::from_secs(6),
            &CancellationToken::new(),
            &progress,
        )
        .await;
    assert!(r.is_err(), "the parent write was made to fail");
    let seen = seen.into_inner().unwrap();
    let zones = child_zones(&f, CHILD, "prog.example.com");
    assert_eq!(zones.len(), 1, "the zone was created");
    assert_eq!(
        seen,
        vec![zones[0].id.clone()],
        "and reported once, as it was made"
    );
}
