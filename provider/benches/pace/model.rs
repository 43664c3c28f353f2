//! A model of terraform-provider-aws's calls (replayed), not the provider
//! itself: the usual two-alias pattern (`aws_route53_zone` in the child
//! account, `aws_route53_record` of type NS in the parent account), replayed
//! with the AWS SDK for Rust against a world from the call sequence and
//! waiter timings documented in the shared notes beside the checkout (`../shared/peers.md`). The AWS provider
//! cannot be installed here.
//!
//! What is modelled, per link:
//! - apply: the zone (`CreateHostedZone`, wait, `GetHostedZone`,
//!   `ListTagsForResource`), then the record (`GetHostedZone`,
//!   `ChangeResourceRecordSets` CREATE, wait, `GetHostedZone`,
//!   `ListResourceRecordSets`), each resource holding one of Terraform's
//!   parallelism slots while it runs;
//! - no-op plan: the refresh of both resources (4 calls);
//! - destroy: the refresh (4), then the record (`GetHostedZone`,
//!   `ListResourceRecordSets`, `ChangeResourceRecordSets` DELETE, wait),
//!   then the zone (`DeleteHostedZone`, wait).
//!
//! The waiter sleeps one interval (15 s) first, polls `GetChange`, then
//! polls every interval until INSYNC. Assumptions, all in the AWS provider's
//! favour or neutral: the parent zone is given by ID (no
//! `data.aws_route53_zone` walk), no tags, the aliases use base credentials
//! (their `AssumeRole` and `GetCallerIdentity` at start-up are not counted),
//! and throttled calls are retried like the provider's defaults: up to 25
//! attempts with the standard back-off and no retry quota.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_route53::config::retry::{RetryConfig, RetryPartition, TokenBucket};
use aws_sdk_route53::error::ProvideErrorMetadata;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
    TagResourceType,
};
use aws_sdk_route53::Client;
use tokio::sync::Semaphore;

/// The AWS provider's default `max_retries`.
const MAX_ATTEMPTS: u32 = 25;
/// The record's TTL in the usual example.
const RECORD_TTL: i64 = 300;

/// One link's resources as the model's state holds them.
#[derive(Debug, Clone, Default)]
pub struct LinkState {
    pub name: String,
    /// Index of the child account's client in [`Model::children`].
    pub child: usize,
    pub zone_id: Option<String>,
    pub name_servers: Vec<String>,
    pub record: bool,
}

/// What one replayed command did.
#[derive(Debug, Clone)]
pub struct Outcome {
    pub wall: Duration,
    /// Links with at least one failed resource operation.
    pub failures: u64,
    /// The first few error messages.
    pub errors: Vec<String>,
}

/// The two provider aliases: clients for the child and parent accounts.
#[derive(Debug, Clone)]
pub struct Model {
    /// One alias per child account.
    pub children: Vec<Client>,
    pub parent: Client,
    pub parent_zone_id: String,
    /// The waiter's interval (15 s in the provider; scaled in quick mode).
    pub interval: Duration,
    pub parallelism: usize,
}

/// A Route 53 client with an account's base credentials against `endpoint`,
/// retrying like the AWS provider does by default.
pub fn client(endpoint: &str, account: &str, key: (String, String)) -> Client {
    let conf = aws_sdk_route53::Config::builder()
        .behavior_version(aws_sdk_route53::config::BehaviorVersion::latest())
        .region(aws_sdk_route53::config::Region::new("us-east-1"))
        .endpoint_url(endpoint)
        .credentials_provider(aws_sdk_route53::config::Credentials::new(
            key.0,
            key.1,
            None,
            None,
            "bench-model",
        ))
        .retry_config(RetryConfig::standard().with_max_attempts(MAX_ATTEMPTS))
        .retry_partition(
            RetryPartition::custom(format!("model-{account}-{endpoint}"))
                .token_bucket(TokenBucket::unlimited())
                .build(),
        )
        .build();
    Client::from_conf(conf)
}

type Res<T> = Result<T, String>;

fn err<E: std::fmt::Display>(what: &str) -> impl FnOnce(E) -> String + '_ {
    move |e| format!("{what}: {e}")
}

fn sdk_err<E>(what: &str) -> impl FnOnce(aws_sdk_route53::error::SdkError<E>) -> String + '_
where
    E: std::error::Error + ProvideErrorMetadata + 'static,
{
    move |e| {
        let detail = match (e.code(), e.message()) {
            (Some(code), Some(msg)) => format!("{code}: {msg}"),
            _ => aws_sdk_route53::error::DisplayErrorContext(&e)
                .to_string()
                .chars()
                .take(200)
                .collect(),
        };
        format!("{what}: {detail}")
    }
}

impl Model {
    /// The AWS provider's change waiter: sleep one interval, then poll
    /// `GetChange` every interval until INSYNC.
    async fn wait(&self, r53: &Client, change_id: &str) -> Res<()> {
        let id = change_id.trim_start_matches("/change/");
        loop {
            tokio::time::sleep(self.interval).await;
            let out = r53
                .get_change()
                .id(id)
                .send()
                .await
                .map_err(sdk_err("GetChange"))?;
            if out.change_info().map(|c| c.status()) == Some(&ChangeStatus::Insync) {
                return Ok(());
            }
        }
    }

    async fn create_zone(&self, link: &mut LinkState) -> Res<()> {
        let out = self.children[link.child]
            .create_hosted_zone()
            .name(&link.name)
            .caller_reference(format!(
                "terraform-{}-{:x}",
                link.name,
                std::time::SystemTime::now()
                    .duration_since(std::time::UNIX_EPOCH)
                    .unwrap_or_default()
                    .as_nanos()
            ))
            .send()
            .await
            .map_err(sdk_err("CreateHostedZone"))?;
        let zone_id = out
            .hosted_zone()
            .map(|z| z.id().trim_start_matches("/hostedzone/").to_string())
            .ok_or("CreateHostedZone: no zone")?;
        link.zone_id = Some(zone_id.clone());
        let change = out
            .change_info()
            .map(|c| c.id().to_string())
            .ok_or("CreateHostedZone: no change")?;
        self.wait(&self.children[link.child], &change).await?;
        self.read_zone(link).await
    }

    /// The zone resource's read: `GetHostedZone` + `ListTagsForResource`.
    async fn read_zone(&self, link: &mut LinkState) -> Res<()> {
        let Some(id) = link.zone_id.clone() else {
            return Ok(());
        };
        let child = &self.children[link.child];
        let out = child
            .get_hosted_zone()
            .id(&id)
            .send()
            .await
            .map_err(sdk_err("GetHostedZone"))?;
        link.name_servers = out
            .delegation_set()
            .map(|d| d.name_servers().to_vec())
            .unwrap_or_default();
        child
            .list_tags_for_resource()
            .resource_type(TagResourceType::Hostedzone)
            .resource_id(&id)
            .send()
            .await
            .map(|_| ())
            .map_err(sdk_err("ListTagsForResource"))
    }

    /// The record resource's read: `GetHostedZone` (parent) +
    /// `ListResourceRecordSets` from the record's name and type.
    async fn read_record(&self, link: &LinkState) -> Res<()> {
        self.parent
            .get_hosted_zone()
            .id(&self.parent_zone_id)
            .send()
            .await
            .map_err(sdk_err("GetHostedZone (parent)"))?;
        self.parent
            .list_resource_record_sets()
            .hosted_zone_id(&self.parent_zone_id)
            .start_record_name(&link.name)
            .start_record_type(RrType::Ns)
            .max_items(1)
            .send()
            .await
            .map_err(sdk_err("ListResourceRecordSets"))?;
        Ok(())
    }

    async fn change_record(&self, link: &LinkState, action: ChangeAction) -> Res<()> {
        let records: Vec<ResourceRecord> = link
            .name_servers
            .iter()
            .map(|s| ResourceRecord::builder().value(s).build())
            .collect::<Result<_, _>>()
            .map_err(err("record value"))?;
        let set = ResourceRecordSet::builder()
            .name(&link.name)
            .r#type(RrType::Ns)
            .ttl(RECORD_TTL)
            .set_resource_records(Some(records))
            .build()
            .map_err(err("record set"))?;
        let change = Change::builder()
            .action(action)
            .resource_record_set(set)
            .build()
            .map_err(err("change"))?;
        let out = self
            .parent
            .change_resource_record_sets()
            .hosted_zone_id(&self.parent_zone_id)
            .change_batch(
                ChangeBatch::builder()
                    .changes(change)
                    .build()
                    .map_err(err("batch"))?,
            )
            .send()
            .await
            .map_err(sdk_err("ChangeResourceRecordSets"))?;
        let id = out
            .change_info()
            .map(|c| c.id().to_string())
            .ok_or("ChangeResourceRecordSets: no change")?;
        self.wait(&self.parent, &id).await
    }

    async fn create_record(&self, link: &mut LinkState) -> Res<()> {
        self.parent
            .get_hosted_zone()
            .id(&self.parent_zone_id)
            .send()
            .await
            .map_err(sdk_err("GetHostedZone (parent)"))?;
        self.change_record(link, ChangeAction::Create).await?;
        link.record = true;
        self.read_record(link).await
    }

    async fn delete_record(&self, link: &mut LinkState) -> Res<()> {
        self.read_record(link).await?;
        self.change_record(link, ChangeAction::Delete).await?;
        link.record = false;
        Ok(())
    }

    async fn delete_zone(&self, link: &mut LinkState) -> Res<()> {
        let Some(id) = link.zone_id.clone() else {
            return Ok(());
        };
        let child = &self.children[link.child];
        let out = child
            .delete_hosted_zone()
            .id(&id)
            .send()
            .await
            .map_err(sdk_err("DeleteHostedZone"))?;
        link.zone_id = None;
        let change = out.change_info().map(|c| c.id().to_string());
        if let Some(change) = change {
            self.wait(child, &change).await?;
        }
        Ok(())
    }

    /// Runs `steps` for every link; each step holds one parallelism slot
    /// while it runs (Terraform's semaphore over graph nodes). A link stops
    /// at its first failed step.
    async fn walk(&self, links: &mut [LinkState], steps: &'static [Step]) -> Outcome {
        let t0 = Instant::now();
        let slots = Arc::new(Semaphore::new(self.parallelism.max(1)));
        let failures = Arc::new(AtomicU64::new(0));
        let mut tasks = tokio::task::JoinSet::new();
        for (i, link) in links.iter().enumerate() {
            let mut link = link.clone();
            let slots = slots.clone();
            let failures = failures.clone();
            let me = self.clone();
            tasks.spawn(async move {
                let mut error = None;
                for step in steps {
                    let r = {
                        let _slot = slots.acquire().await.expect("semaphore");
                        me.step(*step, &mut link).await
                    };
                    if let Err(e) = r {
                        failures.fetch_add(1, Ordering::Relaxed);
                        error = Some(format!("{}: {e}", link.name));
                        break;
                    }
                }
                (i, link, error)
            });
        }
        let mut errors = Vec::new();
        while let Some(joined) = tasks.join_next().await {
            let (i, link, error) = joined.expect("model task");
            links[i] = link;
            if let Some(e) = error {
                if errors.len() < 3 {
                    errors.push(e);
                }
            }
        }
        Outcome {
            wall: t0.elapsed(),
            failures: failures.load(Ordering::Relaxed),
            errors,
        }
    }

    async fn step(&self, step: Step, link: &mut LinkState) -> Res<()> {
        match step {
            Step::CreateZone => self.create_zone(link).await,
            Step::CreateRecord => self.create_record(link).await,
            Step::RefreshZone => self.read_zone(link).await,
            Step::RefreshRecord if link.record => self.read_record(link).await,
            Step::RefreshRecord => Ok(()),
            Step::DeleteRecord if link.record => self.delete_record(link).await,
            Step::DeleteRecord => Ok(()),
            Step::DeleteZone => self.delete_zone(link).await,
        }
    }

    /// `terraform apply` of new links (nothing to refresh yet).
    pub async fn apply(&self, links: &mut [LinkState]) -> Outcome {
        self.walk(links, &[Step::CreateZone, Step::CreateRecord])
            .await
    }

    /// `terraform plan` with nothing to do: every resource refreshed.
    pub async fn plan(&self, links: &mut [LinkState]) -> Outcome {
        self.walk(links, &[Step::RefreshZone, Step::RefreshRecord])
            .await
    }

    /// `terraform destroy`: refresh, then the record, then the zone.
    pub async fn destroy(&self, links: &mut [LinkState]) -> Outcome {
        let refresh = self.plan(links).await;
        let mut out = self
            .walk(links, &[Step::DeleteRecord, Step::DeleteZone])
            .await;
        out.wall += refresh.wall;
        out.failures += refresh.failures;
        out.errors.extend(refresh.errors);
        out
    }
}

#[derive(Debug, Clone, Copy)]
enum Step {
    CreateZone,
    CreateRecord,
    RefreshZone,
    RefreshRecord,
    DeleteRecord,
    DeleteZone,
}
