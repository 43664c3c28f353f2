//! STS behaviour through aws-sdk-sts.

mod common;

use common::*;
use r53world::{Operation, CHILD_ACCOUNTS, OPERATOR_ACCOUNT};

const PARENT_ROLE: &str = "arn:aws:iam::111111111111:role/delegation-parent";
const EXT_ROLE: &str = "arn:aws:iam::222222222222:role/delegation-child-ext";

#[tokio::test]
async fn assume_role_returns_temporary_credentials() {
    let w = world().await;
    let s = sts(&w, OPERATOR_ACCOUNT);
    let out = s
        .assume_role()
        .role_arn(PARENT_ROLE)
        .role_session_name("tf-run")
        .duration_seconds(900)
        .send()
        .await
        .unwrap();
    let c = out.credentials().unwrap();
    assert!(
        c.access_key_id().starts_with("ASIA") && c.access_key_id().len() == 20,
        "{}",
        c.access_key_id()
    );
    assert!(!c.secret_access_key().is_empty() && !c.session_token().is_empty());
    let exp = c.expiration().secs() - aws_smithy_now();
    assert!((800..=1000).contains(&exp), "expiration {exp} s from now");
    assert_eq!(
        out.assumed_role_user().unwrap().arn(),
        "arn:aws:sts::111111111111:assumed-role/delegation-parent/tf-run"
    );
    // GetCallerIdentity with the temporary and the base credentials.
    let no_token = sts_with(&w.endpoint(), c.access_key_id(), c.secret_access_key());
    let e = no_token.get_caller_identity().send().await.unwrap_err();
    assert_eq!(code(&e), "InvalidClientTokenId");
    let tmp = sts_with_token(
        &w.endpoint(),
        c.access_key_id(),
        c.secret_access_key(),
        Some(c.session_token().to_string()),
    );
    let id = tmp.get_caller_identity().send().await.unwrap();
    assert_eq!(id.account(), Some("111111111111"));
    assert_eq!(
        id.arn(),
        Some("arn:aws:sts::111111111111:assumed-role/delegation-parent/tf-run")
    );
    let base = s.get_caller_identity().send().await.unwrap();
    assert_eq!(base.account(), Some(OPERATOR_ACCOUNT));
    assert_eq!(base.arn(), Some("arn:aws:iam::999999999999:user/operator"));
    for acct in CHILD_ACCOUNTS {
        let id = sts(&w, acct).get_caller_identity().send().await.unwrap();
        assert_eq!(id.account(), Some(acct));
    }
    assert_eq!(w.calls(OPERATOR_ACCOUNT, Operation::AssumeRole), 1);
}

fn aws_smithy_now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_secs() as i64
}

#[tokio::test]
async fn assume_role_denied_by_trust_external_id_or_missing_role() {
    let w = world().await;
    let op = sts(&w, OPERATOR_ACCOUNT);
    // Caller account not trusted.
    let e = sts(&w, "333333333333")
        .assume_role()
        .role_arn(PARENT_ROLE)
        .role_session_name("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    assert!(message(&e).contains("is not authorized to perform: sts:AssumeRole on resource: arn:aws:iam::111111111111:role/delegation-parent"), "{}", message(&e));
    assert_eq!(e.raw_response().map(|r| r.status().as_u16()), Some(403));
    // External id: missing, wrong, right.
    for ext in [None, Some("wrong")] {
        let e = op
            .assume_role()
            .role_arn(EXT_ROLE)
            .role_session_name("x")
            .set_external_id(ext.map(str::to_string))
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "AccessDenied", "external id {ext:?}");
    }
    op.assume_role()
        .role_arn(EXT_ROLE)
        .role_session_name("x")
        .external_id("ext-secret-123")
        .send()
        .await
        .unwrap();
    // Role that does not exist.
    let e = op
        .assume_role()
        .role_arn("arn:aws:iam::111111111111:role/nope")
        .role_session_name("x")
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "AccessDenied");
    // Duration out of range.
    let e = op
        .assume_role()
        .role_arn(PARENT_ROLE)
        .role_session_name("x")
        .duration_seconds(60)
        .send()
        .await
        .unwrap_err();
    assert_eq!(code(&e), "ValidationError");
}

#[tokio::test]
async fn fail_assume_role_mimics_iam_propagation() {
    let w = world().await;
    let op = sts(&w, OPERATOR_ACCOUNT);
    w.fail_assume_role(PARENT_ROLE, 2);
    for _ in 0..2 {
        let e = op
            .assume_role()
            .role_arn(PARENT_ROLE)
            .role_session_name("x")
            .send()
            .await
            .unwrap_err();
        assert_eq!(code(&e), "AccessDenied");
    }
    op.assume_role()
        .role_arn(PARENT_ROLE)
        .role_session_name("x")
        .send()
        .await
        .unwrap();
    // Same knob over the admin API.
    let (st, _, _) = http(
        &w.endpoint(),
        "POST",
        "/admin/fail-assume-role",
        &[("content-type", "application/json")],
        &format!(r#"{{"role_arn":"{PARENT_ROLE}","count":1}}"#),
    );
    assert_eq!(st, 200);
    assert_eq!(
        code(
            &op.assume_role()
                .role_arn(PARENT_ROLE)
                .role_session_name("x")
                .send()
                .await
                .unwrap_err()
        ),
        "AccessDenied"
    );
    op.assume_role()
        .role_arn(PARENT_ROLE)
        .role_session_name("x")
        .send()
        .await
        .unwrap();
    // Roles added through the admin API can be assumed.
    let (st, _, body) = http(
        &w.endpoint(),
        "POST",
        "/admin/roles",
        &[("content-type", "application/json")],
        r#"{"account":"444444444444","name":"added","trusted_accounts":["999999999999"],"external_id":null,"permission":"Full"}"#,
    );
    assert_eq!(st, 200, "{body}");
    op.assume_role()
        .role_arn("arn:aws:iam::444444444444:role/added")
        .role_session_name("x")
        .send()
        .await
        .unwrap();
}
