//! The SQS adapter: the escalations, notifications and incident-updates queues the outbox feeds, and the
//! specialist teams' FIFO queues.

use std::collections::BTreeMap;

use aws_sdk_sqs::Client;

use guichet_core::outbox::ports::{MessageQueues, SendError};
use guichet_core::outbox::rules::Destination;
use guichet_core::tickets::ticket::Team;
use guichet_edge::config::QueuesConfig;

use crate::warmup::Endpoint;

#[derive(Clone)]
pub struct SqsQueues {
    client: Client,
    escalations: String,
    notifications: String,
    incident_updates: String,
    team_alerts: String,
    teams: BTreeMap<&'static str, String>,
}

impl SqsQueues {
    pub fn new(client: Client, config: &QueuesConfig) -> Self {
        Self {
            client,
            escalations: config.escalations_queue_url.clone(),
            notifications: config.notifications_queue_url.clone(),
            incident_updates: config.incident_updates_queue_url.clone(),
            team_alerts: config.team_alerts_queue_url.clone(),
            teams: config
                .team_queue_urls
                .iter()
                .map(|(team, url)| (team.as_str(), url.clone()))
                .collect(),
        }
    }
}

impl SqsQueues {
    /// The warm-up's endpoint for `destination`'s queue ([`crate::warmup`]): SQS is one host per
    /// region, so the connection it opens serves the sends to every queue.
    pub fn warmup_endpoint(&self, destination: Destination) -> Endpoint {
        Endpoint::Queue(self.url(destination).to_owned())
    }

    /// The same for a team's FIFO queue, for the function that sends only there.
    pub fn team_warmup_endpoint(&self, team: Team) -> Option<Endpoint> {
        let url = self.teams.get(team.as_str())?;
        Some(Endpoint::Queue(url.clone()))
    }

    fn url(&self, destination: Destination) -> &str {
        match destination {
            Destination::Escalations => &self.escalations,
            Destination::Notifications => &self.notifications,
            Destination::IncidentUpdates => &self.incident_updates,
            Destination::TeamAlerts => &self.team_alerts,
        }
    }
}

fn backend<E: std::error::Error + Send + Sync + 'static>(e: E) -> SendError {
    SendError::Backend(Box::new(e))
}

impl MessageQueues for SqsQueues {
    async fn send(&self, destination: Destination, body: &str) -> Result<(), SendError> {
        let url = self.url(destination);
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }

    async fn send_to_team(
        &self,
        team: Team,
        group: &str,
        deduplication_id: &str,
        body: &str,
    ) -> Result<(), SendError> {
        let url = self
            .teams
            .get(team.as_str())
            .ok_or(SendError::NoQueue(team.as_str()))?;
        self.client
            .send_message()
            .queue_url(url)
            .message_body(body)
            .message_group_id(group)
            .message_deduplication_id(deduplication_id)
            .send()
            .await
            .map_err(backend)?;
        Ok(())
    }
}
