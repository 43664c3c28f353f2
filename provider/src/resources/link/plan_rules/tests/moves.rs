//! Which setting a plan-time move refusal points at.

use super::*;

/// Failure mode: the plan-time refusal of a move pointing at a setting
/// that did not move the link (or missing a move), so Terraform shows the
/// wrong line.
#[test]
fn a_move_is_told_on_the_setting_that_moves_the_link() {
    let prior = with_state(
        &config(),
        &DomainName::parse("api.example.com").unwrap(),
        &healthy(),
    );
    let moved = |path: &[&str], x: Value| {
        let mut c = config();
        at(&mut c, path, x);
        child_move_attribute(&prior, &c).map(|p| p.to_string())
    };
    assert_eq!(child_move_attribute(&prior, &config()), None);
    assert_eq!(moved(&["child", "comment"], Value::string("x")), None);
    assert_eq!(moved(&["child", "zone_id"], Value::string("ZC")), None);
    assert_eq!(
        moved(&["child", "zone_id"], Value::string("/hostedzone/ZC")),
        None
    );
    let zone = moved(&["child", "zone_id"], Value::string("ZO"));
    let new_role = moved(&["child", "assume_role"], role(OTHER_CHILD_ROLE));
    let unknown_role = moved(&["child", "assume_role", "role_arn"], Value::Unknown);
    let no_role = moved(&["child", "assume_role"], Value::Null);
    let region = moved(&["child", "region"], Value::string("cn-north-1"));
    let profile = moved(&["child", "profile"], Value::string("other"));
    let want = |p: AttributePath| Some(p.to_string());
    let child = AttributePath::attr("child");
    assert_eq!(zone, want(child.clone().then_attr("zone_id")));
    let arn = child.clone().then_attr("assume_role").then_attr("role_arn");
    assert_eq!(new_role, want(arn.clone()));
    assert_eq!(unknown_role, want(arn));
    assert_eq!(no_role, want(child.clone().then_attr("assume_role")));
    assert_eq!(region, want(child.clone().then_attr("region")));
    assert_eq!(profile, want(child.then_attr("profile")));
}
