//! Every queue of `infra/template.yaml` is watched: a dead-letter queue raises an alarm on its
//! first parked message, any other queue when its oldest message gets old, and every alarm goes
//! to the operations topic. A queue added without its alarm fails here, and the check is shown
//! to notice a missing alarm (a check that cannot fail proves nothing).
//!
//! CloudWatch alarms are not provisioned locally (nothing local would raise them), so this reads
//! the template only: the queues through the same reader as provisioning, the alarms as YAML.

use std::collections::BTreeSet;

use guichet_local::template::Template;
use serde_norway::Value;

const ALARM_TYPE: &str = "AWS::CloudWatch::Alarm";
const TOPIC: &str = "OperationsAlarmTopic";

/// One `AWS::CloudWatch::Alarm` on an SQS queue of the template.
#[derive(Debug)]
struct QueueAlarm {
    logical_id: String,
    metric: String,
    /// Logical id of the queue, from `Dimensions: [{Name: QueueName, Value: !GetAtt Q.QueueName}]`.
    queue: String,
}

fn resources(root: &Value) -> &serde_norway::Mapping {
    root.get("Resources")
        .and_then(Value::as_mapping)
        .expect("the template has a Resources mapping")
}

/// `!GetAtt Q.QueueName` (or `Fn::GetAtt: [Q, QueueName]`) as `Q`.
fn queue_name_of(value: &Value) -> Option<String> {
    let Value::Tagged(tagged) = value else {
        return None;
    };
    if tagged.tag != "GetAtt" {
        return None;
    }
    let target = match &tagged.value {
        Value::String(dotted) => dotted.strip_suffix(".QueueName")?.to_owned(),
        Value::Sequence(parts) if parts.get(1)?.as_str()? == "QueueName" => {
            parts.first()?.as_str()?.to_owned()
        }
        _ => return None,
    };
    Some(target)
}

/// Every alarm's actions, as the logical ids they `!Ref`; `None` for anything else.
fn refs(actions: Option<&Value>) -> Vec<Option<String>> {
    let Some(Value::Sequence(actions)) = actions else {
        return Vec::new();
    };
    actions
        .iter()
        .map(|action| match action {
            Value::Tagged(tagged) if tagged.tag == "Ref" => {
                tagged.value.as_str().map(str::to_owned)
            }
            _ => None,
        })
        .collect()
}

/// The SQS alarms, and every alarm (SQS or not) whose actions are not exactly the operations
/// topic, as findings.
fn queue_alarms(root: &Value) -> (Vec<QueueAlarm>, Vec<String>) {
    let mut alarms = Vec::new();
    let mut findings = Vec::new();
    for (logical_id, resource) in resources(root) {
        let logical_id = logical_id.as_str().unwrap_or_default().to_owned();
        if resource.get("Type").and_then(Value::as_str) != Some(ALARM_TYPE) {
            continue;
        }
        let properties = &resource["Properties"];
        for key in ["AlarmActions", "OKActions"] {
            if refs(properties.get(key)) != vec![Some(TOPIC.to_owned())] {
                findings.push(format!("{logical_id}.{key} is not [!Ref {TOPIC}]"));
            }
        }
        if properties.get("Namespace").and_then(Value::as_str) != Some("AWS/SQS") {
            continue;
        }
        let queue = properties
            .get("Dimensions")
            .and_then(Value::as_sequence)
            .into_iter()
            .flatten()
            .filter(|d| d.get("Name").and_then(Value::as_str) == Some("QueueName"))
            .find_map(|d| d.get("Value").and_then(queue_name_of));
        match queue {
            Some(queue) => alarms.push(QueueAlarm {
                logical_id,
                metric: properties["MetricName"]
                    .as_str()
                    .unwrap_or_default()
                    .to_owned(),
                queue,
            }),
            None => findings.push(format!(
                "{logical_id} watches SQS but names no queue by !GetAtt <Queue>.QueueName"
            )),
        }
    }
    (alarms, findings)
}

/// What is not watched as it should be, one line each; empty when all is well.
fn unwatched(template: &Template, root: &Value) -> Vec<String> {
    let queues = template
        .queues("alarms", "000000000000", "ca-central-1")
        .expect("the template's queues read");
    let dead_letter_queues: BTreeSet<&str> = queues
        .iter()
        .filter_map(|q| q.dead_letter_queue.as_deref())
        .collect();
    let (alarms, mut findings) = queue_alarms(root);
    let watched = |queue: &str, metric: &str| {
        alarms
            .iter()
            .any(|a| a.queue == queue && a.metric == metric)
    };
    for queue in &queues {
        let id = queue.logical_id.as_str();
        let (metric, why) = if dead_letter_queues.contains(id) {
            ("ApproximateNumberOfMessagesVisible", "a dead-letter queue")
        } else {
            ("ApproximateAgeOfOldestMessage", "a working queue")
        };
        if !watched(id, metric) {
            findings.push(format!("{id} is {why} without an alarm on {metric}"));
        }
    }
    for alarm in &alarms {
        if !queues.iter().any(|q| q.logical_id == alarm.queue) {
            findings.push(format!(
                "{} watches {}, which is not a queue of the template",
                alarm.logical_id, alarm.queue
            ));
        }
    }
    if resources(root)
        .get(TOPIC)
        .and_then(|t| t.get("Type"))
        .and_then(Value::as_str)
        != Some("AWS::SNS::Topic")
    {
        findings.push(format!("{TOPIC} is not an AWS::SNS::Topic of the template"));
    }
    findings
}

fn project() -> (Template, Value) {
    let text = std::fs::read_to_string(Template::default_path()).expect("the template reads");
    let template = Template::parse(&text).expect("the template parses");
    let root = serde_norway::from_str(&text).expect("the template is YAML");
    (template, root)
}

#[test]
fn every_queue_of_the_template_has_its_alarm() {
    let (template, root) = project();
    let findings = unwatched(&template, &root);
    assert!(findings.is_empty(), "unwatched: {findings:#?}");
    let (alarms, _) = queue_alarms(&root);
    // Nine dead-letter queues and nine working queues at the time of writing: a check that
    // found nothing to check would pass as well.
    assert!(alarms.len() >= 18, "{alarms:#?}");
}

#[test]
fn a_dead_letter_queue_without_its_alarm_is_found() {
    let (template, mut root) = project();
    let removed = root["Resources"]
        .as_mapping_mut()
        .and_then(|r| r.remove("NotificationsDeadLetterAlarm"));
    assert!(removed.is_some(), "the alarm this test removes exists");
    assert_eq!(
        unwatched(&template, &root),
        vec![
            "NotificationsDeadLetterQueue is a dead-letter queue without an alarm on \
             ApproximateNumberOfMessagesVisible"
                .to_owned()
        ]
    );
}

#[test]
fn a_working_queue_without_its_alarm_and_an_alarm_to_elsewhere_are_found() {
    let (template, mut root) = project();
    let resources = root["Resources"].as_mapping_mut().expect("Resources");
    resources.remove("GamesEscalationBacklogAlarm");
    resources["EscalationsDeadLetterAlarm"]["Properties"]["OKActions"] = Value::Sequence(vec![]);
    assert_eq!(
        unwatched(&template, &root),
        vec![
            "EscalationsDeadLetterAlarm.OKActions is not [!Ref OperationsAlarmTopic]".to_owned(),
            "GamesEscalationQueue is a working queue without an alarm on \
             ApproximateAgeOfOldestMessage"
                .to_owned(),
        ]
    );
}
