//! Unit tests of account settings, client building and AssumeRole failures.

use super::*;

#[test]
fn partitions_sign_route53_in_their_global_region() {
    assert_eq!(
        Partition::of_region("eu-west-1").route53_signing_region(),
        "us-east-1"
    );
    assert_eq!(
        Partition::of_region("cn-north-1").route53_signing_region(),
        "cn-northwest-1"
    );
    assert_eq!(
        Partition::of_region("us-gov-east-1").route53_signing_region(),
        "us-gov-west-1"
    );
}

#[test]
fn role_arns_are_checked() {
    assert!(validate_role_arn("arn:aws:iam::123456789012:role/delegation").is_ok());
    assert!(validate_role_arn("arn:aws-cn:iam::123456789012:role/path/to/r").is_ok());
    assert!(validate_role_arn("arn:aws:iam::12345:role/x")
        .unwrap_err()
        .contains("12 digits"));
    assert!(validate_role_arn("arn:aws:iam::123456789012:user/x")
        .unwrap_err()
        .contains("not a role"));
    assert!(validate_role_arn("role/x")
        .unwrap_err()
        .contains("not an ARN"));
    assert!(validate_role_arn("arn:aws:s3::123456789012:role/x")
        .unwrap_err()
        .contains("not an IAM"));
    assert!(validate_role_arn("arn:aws:iam::123456789012:role/").is_err());
}

#[test]
fn session_duration_bounds() {
    assert!(validate_session_duration(Duration::from_secs(900)).is_ok());
    assert!(validate_session_duration(Duration::from_secs(899)).is_err());
    assert!(validate_session_duration(Duration::from_secs(43_201)).is_err());
}

fn client() -> aws_sdk_route53::Client {
    aws_sdk_route53::Client::from_conf(
        aws_sdk_route53::Config::builder()
            .behavior_version(BehaviorVersion::latest())
            .region(Region::from_static("us-east-1"))
            .build(),
    )
}

fn key(account: &str) -> AccountSettings {
    AccountSettings {
        assume_role: Some(AssumeRole {
            role_arn: format!("arn:aws:iam::{account}:role/delegation-child"),
            ..Default::default()
        }),
        ..Default::default()
    }
}

fn failure(definitive: bool) -> BuildFailure {
    BuildFailure {
        role_arn: "arn:aws:iam::444444444444:role/x".into(),
        message: "AccessDenied: no (after 5 attempts)".into(),
        definitive,
    }
}

#[tokio::test]
async fn concurrent_callers_with_one_setting_share_one_build() {
    // Guards: every link of a `for_each` assuming the same role itself.
    let c = Clients::new(AccountSettings::default());
    let runs = Arc::new(AtomicUsize::new(0));
    let k = key("222222222222");
    let calls = (0..10).map(|_| {
        let (c, runs, k) = (c.clone(), runs.clone(), k.clone());
        async move {
            c.shared(&k, || async {
                runs.fetch_add(1, Ordering::SeqCst);
                tokio::task::yield_now().await;
                Ok(client())
            })
            .await
        }
    });
    let outcomes = futures::future::join_all(calls).await;
    assert!(outcomes.iter().all(Result::is_ok));
    assert_eq!(runs.load(Ordering::SeqCst), 1, "one build for ten callers");
    assert_eq!(c.built(), 1);
}

#[tokio::test]
async fn a_build_under_way_does_not_hold_up_other_settings() {
    // Guards: one lock over every build, so a role backing off after
    // AccessDenied stalls every other account.
    let c = Clients::new(AccountSettings::default());
    let (release, released) = tokio::sync::oneshot::channel::<()>();
    let (started, has_started) = tokio::sync::oneshot::channel::<()>();
    let slow = {
        let c = c.clone();
        tokio::spawn(async move {
            c.shared(&key("444444444444"), || async move {
                let _ = started.send(());
                let _ = released.await;
                Err(failure(true))
            })
            .await
        })
    };
    has_started.await.expect("the slow build started");
    // The other account's client is built while the first build waits.
    c.shared(&key("222222222222"), || async { Ok(client()) })
        .await
        .expect("another account is built at once");
    assert!(!slow.is_finished(), "the slow build is still under way");
    release.send(()).expect("release the slow build");
    assert!(slow.await.expect("joined").is_err());
}

#[tokio::test]
async fn definitive_failures_are_remembered_and_transient_ones_are_not() {
    let c = Clients::new(AccountSettings::default());
    let runs = AtomicUsize::new(0);
    let denied = key("444444444444");
    for _ in 0..3 {
        let err = c
            .shared(&denied, || async {
                runs.fetch_add(1, Ordering::SeqCst);
                Err(failure(true))
            })
            .await
            .unwrap_err();
        assert_eq!(
            err.to_error().to_string(),
            failure(true).to_error().to_string()
        );
    }
    assert_eq!(
        runs.load(Ordering::SeqCst),
        1,
        "a denied role is tried once per engine"
    );

    let flaky = key("333333333333");
    runs.store(0, Ordering::SeqCst);
    assert!(c
        .shared(&flaky, || async {
            runs.fetch_add(1, Ordering::SeqCst);
            Err(failure(false))
        })
        .await
        .is_err());
    c.shared(&flaky, || async {
        runs.fetch_add(1, Ordering::SeqCst);
        Ok(client())
    })
    .await
    .expect("a transient failure is tried again");
    assert_eq!(runs.load(Ordering::SeqCst), 2);
    assert_eq!(c.built(), 1, "only successful builds count");
}

fn sts_service_error(status: u16, code: &str) -> CredentialsError {
    use aws_smithy_types::error::ErrorMetadata;
    let err = AssumeRoleError::generic(
        ErrorMetadata::builder()
            .code(code)
            .message("User: arn:aws:iam::999999999999:user/operator is not authorized to perform: sts:AssumeRole")
            .build(),
    );
    let raw = aws_smithy_runtime_api::http::Response::new(
        aws_smithy_runtime_api::http::StatusCode::try_from(status).expect("status"),
        aws_smithy_types::body::SdkBody::empty(),
    );
    CredentialsError::provider_error(aws_sdk_sts::error::SdkError::service_error(err, raw))
}

#[test]
fn assume_role_failures_are_classified_by_their_sts_error_code() {
    let (kind, text) = classify(&sts_service_error(403, "AccessDenied"));
    assert_eq!(kind, FailureKind::Denied);
    assert!(
        text.starts_with("AccessDenied: User: arn:aws:iam::999999999999:user/operator"),
        "{text}"
    );
    assert_eq!(
        classify(&sts_service_error(400, "Throttling")).0,
        FailureKind::Transient
    );
    assert_eq!(
        classify(&sts_service_error(503, "Whatever")).0,
        FailureKind::Transient
    );
    assert_eq!(
        classify(&sts_service_error(400, "ValidationError")).0,
        FailureKind::Definitive
    );
    // "AccessDenied" in another error's message is not a denial.
    assert_eq!(
        classify(&sts_service_error(400, "InvalidClientTokenId")).0,
        FailureKind::Definitive
    );
    let refused = aws_sdk_sts::error::SdkError::<AssumeRoleError>::dispatch_failure(
        aws_smithy_runtime_api::client::result::ConnectorError::io(Box::new(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        ))),
    );
    assert_eq!(
        classify(&CredentialsError::provider_error(refused)).0,
        FailureKind::Transient
    );
    assert_eq!(
        classify(&CredentialsError::provider_timed_out(Duration::from_secs(
            5
        )))
        .0,
        FailureKind::Transient
    );
}

#[test]
fn without_a_typed_sts_error_nothing_is_remembered() {
    // Guards: classifying by searching the message for a code. Only the
    // typed STS error's code counts; text that merely says AccessDenied
    // is not a definitive denial.
    let denied = CredentialsError::provider_error("service error: AccessDenied: no");
    assert_eq!(classify(&denied).0, FailureKind::Transient);
    let other = CredentialsError::provider_error("something odd");
    assert_eq!(classify(&other).0, FailureKind::Transient);
}

#[test]
fn a_configured_sts_endpoint_beats_the_environment() {
    // Guards: aws-sdk-sts preferring AWS_ENDPOINT_URL_STS / AWS_ENDPOINT_URL
    // over the configured endpoint (the origin aws-config records for an
    // endpoint read from the environment travels with the SdkConfig).
    let mut from_env = SdkConfig::builder().endpoint_url("http://127.0.0.1:9");
    from_env.insert_origin("endpoint_url", Origin::shared_environment_variable());
    let base = from_env.build();
    let s = AccountSettings {
        endpoints: Endpoints {
            sts: Some("http://127.0.0.10:8080".into()),
            route53: None,
        },
        ..Default::default()
    };
    let conf = Clients::sts_config(&base, &s);
    assert_eq!(conf.endpoint_url(), Some("http://127.0.0.10:8080"));
    assert!(conf.get_origin("endpoint_url").is_client_config());
    let none = Clients::sts_config(&base, &AccountSettings::default());
    assert!(!none.get_origin("endpoint_url").is_client_config());
}

#[test]
fn defaults_fill_unset_settings_only() {
    let c = Clients::new(AccountSettings {
        region: Some("eu-west-1".into()),
        endpoints: Endpoints {
            route53: Some("http://127.0.0.10:8080".into()),
            sts: None,
        },
        ..Default::default()
    });
    let e = c.effective(&AccountSettings {
        profile: Some("child".into()),
        ..Default::default()
    });
    assert_eq!(e.region.as_deref(), Some("eu-west-1"));
    assert_eq!(e.profile.as_deref(), Some("child"));
    assert_eq!(
        e.endpoints.route53.as_deref(),
        Some("http://127.0.0.10:8080")
    );
}
