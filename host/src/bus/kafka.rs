//! Kafka bus for the scaled mode (rdkafka with its bundled librdkafka).
//!
//! The producer is idempotent (acks=all, no duplicates on retry). Topics are created at
//! start-up because brokers may not auto-create them. A subscription is a consumer in the
//! requested group that starts from the earliest offset when the group has none, so nothing
//! published between joining and the first fetch is missed.

use super::{EventBus, Message, Subscription};
use anyhow::Context;
use async_trait::async_trait;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::config::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext, Rebalance, StreamConsumer};
use rdkafka::error::KafkaError;
use rdkafka::producer::{FutureProducer, FutureRecord, Producer};
use rdkafka::types::RDKafkaErrorCode;
use rdkafka::util::Timeout;
use rdkafka::{ClientContext, Message as _};
use std::time::Duration;
use tokio::sync::{mpsc, watch};

const SEND_TIMEOUT: Duration = Duration::from_secs(10);
const JOIN_TIMEOUT: Duration = Duration::from_secs(30);

pub struct KafkaBus {
    brokers: String,
    prefix: String,
    producer: FutureProducer,
}

impl KafkaBus {
    pub async fn connect(
        brokers: &str,
        prefix: &str,
        partitions: i32,
        topics: &[&str],
    ) -> anyhow::Result<Self> {
        let producer: FutureProducer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("enable.idempotence", "true")
            .set("message.timeout.ms", "10000")
            .set("linger.ms", "1")
            .create()
            .context("creating the Kafka producer")?;
        let bus = Self { brokers: brokers.to_owned(), prefix: prefix.to_owned(), producer };
        bus.ping().await.context("reaching the Kafka brokers")?;
        bus.create_topics(topics, partitions).await?;
        Ok(bus)
    }

    fn topic(&self, topic: &str) -> String {
        format!("{}{topic}", self.prefix)
    }

    /// Creates the topics that do not exist yet; an existing topic is not an error.
    pub async fn create_topics(&self, topics: &[&str], partitions: i32) -> anyhow::Result<()> {
        let admin: AdminClient<DefaultClientContext> =
            ClientConfig::new().set("bootstrap.servers", &self.brokers).create()?;
        let names: Vec<String> = topics.iter().map(|topic| self.topic(topic)).collect();
        let new_topics: Vec<NewTopic<'_>> = names
            .iter()
            .map(|name| NewTopic::new(name, partitions.max(1), TopicReplication::Fixed(1)))
            .collect();
        let options = AdminOptions::new().operation_timeout(Some(Duration::from_secs(10)));
        let results = admin.create_topics(&new_topics, &options).await.context("creating Kafka topics")?;
        for result in results {
            match result {
                Ok(_) | Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
                Err((name, code)) => anyhow::bail!("creating topic {name}: {code}"),
            }
        }
        Ok(())
    }
}

#[async_trait]
impl EventBus for KafkaBus {
    async fn publish(&self, topic: &str, key: &str, payload: &[u8]) -> anyhow::Result<()> {
        let topic = self.topic(topic);
        let record = FutureRecord::to(&topic).key(key).payload(payload);
        self.producer
            .send(record, Timeout::After(SEND_TIMEOUT))
            .await
            .map_err(|(err, _)| anyhow::anyhow!("publishing to {topic}: {err}"))?;
        Ok(())
    }

    async fn subscribe(&self, topic: &str, group: &str) -> anyhow::Result<Subscription> {
        let (assigned_tx, mut assigned_rx) = watch::channel(false);
        let consumer: StreamConsumer<JoinSignal> = ClientConfig::new()
            .set("bootstrap.servers", &self.brokers)
            .set("group.id", format!("{}{group}", self.prefix))
            .set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "true")
            .set("auto.commit.interval.ms", "500")
            .set("session.timeout.ms", "10000")
            .set("heartbeat.interval.ms", "1000")
            // Announcements must cross instances in well under a second.
            .set("fetch.wait.max.ms", "100")
            .create_with_context(JoinSignal { assigned: assigned_tx })
            .context("creating a Kafka consumer")?;
        let full_topic = self.topic(topic);
        consumer.subscribe(&[&full_topic]).context("subscribing")?;
        let logical_topic = topic.to_owned();
        let (tx, rx) = mpsc::channel(256);
        let worker = tokio::spawn(async move {
            loop {
                match consumer.recv().await {
                    Ok(message) => {
                        let forwarded = Message {
                            topic: logical_topic.clone(),
                            key: message
                                .key()
                                .map(|key| String::from_utf8_lossy(key).into_owned())
                                .unwrap_or_default(),
                            payload: message.payload().map(<[u8]>::to_vec).unwrap_or_default(),
                        };
                        if tx.send(forwarded).await.is_err() {
                            break;
                        }
                    }
                    Err(err) => {
                        tracing::warn!(error = %err, "Kafka consumer error");
                        tokio::time::sleep(Duration::from_millis(200)).await;
                    }
                }
            }
        });
        tokio::time::timeout(JOIN_TIMEOUT, assigned_rx.wait_for(|assigned| *assigned))
            .await
            .context("joining the Kafka consumer group timed out")?
            .context("the Kafka consumer stopped")?;
        Ok(Subscription::new(rx, Some(worker)))
    }

    async fn ping(&self) -> anyhow::Result<()> {
        let producer = self.producer.clone();
        // librdkafka's metadata call blocks its thread.
        tokio::task::spawn_blocking(move || {
            producer.client().fetch_metadata(None, Timeout::After(Duration::from_secs(3)))
        })
        .await?
        .map_err(|err: KafkaError| anyhow::anyhow!("Kafka metadata: {err}"))?;
        Ok(())
    }

    fn backend(&self) -> &'static str {
        "kafka"
    }
}

/// Tells `subscribe` when the group has handed this member its partitions.
struct JoinSignal {
    assigned: watch::Sender<bool>,
}

impl ClientContext for JoinSignal {}

impl ConsumerContext for JoinSignal {
    fn post_rebalance(&self, _consumer: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(_) = rebalance {
            self.assigned.send_replace(true);
        }
    }
}
