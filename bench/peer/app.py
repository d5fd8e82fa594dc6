"""The peer: POST /tickets intake as an operator would write it in Python, with boto3 and
AWS Lambda Powertools' idempotency (DynamoDB persistence layer), so Guichet's create-ticket has
something to be measured against (bench/run; not part of the product).

Same contract in substance: the body is parsed and validated, the ticket gets a priority and a
team by the same rules, it is written to the tickets table, a retry with the same
Idempotency-Key (per player) replays the first answer, and the "received" notification goes to
the notifications queue. Not reproduced: the response target calendar and the acknowledgement
text (CPU work of microseconds in Guichet) and the outbox (Guichet writes ticket, history,
idempotency record, notification and outbox in one transaction; this peer makes separate calls,
as Powertools does). Differences an operator would see: a retry answers 201 again
(Powertools replays the stored response; Guichet answers 200), and the same key with another
body fails the invocation with Powertools' IdempotencyValidationError (Guichet answers 422).
"""

import json
import os
import secrets
import time
import uuid

import boto3
from aws_lambda_powertools.utilities.idempotency import (
    DynamoDBPersistenceLayer,
    IdempotencyConfig,
    idempotent,
)

TABLE = os.environ["TICKETS_TABLE"]
NOTIFICATIONS_QUEUE_URL = os.environ["NOTIFICATIONS_QUEUE_URL"]
TTL_HOURS = int(os.environ.get("IDEMPOTENCY_KEY_TTL_HOURS", "24"))

# Module level: created once per container, at init, as Powertools' docs recommend.
dynamodb = boto3.client("dynamodb")
sqs = boto3.client("sqs")

# The idempotency records share the single table (pk/sk, TTL on expires_at), under their own
# partition; the key is the player and their Idempotency-Key, and the body is validated so the
# same key with another request is refused rather than replayed.
persistence = DynamoDBPersistenceLayer(
    table_name=TABLE,
    key_attr="pk",
    sort_key_attr="sk",
    static_pk_value="IDEMPOTENCY#peer",
    expiry_attr="expires_at",
)
config = IdempotencyConfig(
    event_key_jmespath=(
        '[requestContext.authorizer.jwt.claims.sub, headers."idempotency-key"]'
    ),
    payload_validation_jmespath="body",
    expires_after_seconds=TTL_HOURS * 3600,
    raise_on_no_idempotency_key=False,
)

CHANNELS = {"form", "email", "chat"}
TEAMS = {
    "technical": "technical",
    "account": "security",
    "transaction": "payments",
    "verification": "verification",
}
# Guichet's reference alphabet: digits and letters without I, L, O, U, V.
ALPHABET = "0123456789ABCDEFGHJKMNPQRSTWXYZ"


def problem(status, field, rule):
    return {
        "statusCode": status,
        "headers": {"content-type": "application/json"},
        "body": json.dumps({"field": field, "rule": rule}),
    }


def text(body, field, low, high):
    value = body.get(field)
    if not isinstance(value, str):
        return None, problem(400, field, "required")
    value = value.strip()
    if not low <= len(value) <= high:
        return None, problem(400, field, "length")
    if any(ord(c) < 32 and c not in "\n\t" for c in value):
        return None, problem(400, field, "printable_text")
    return value, None


def route(category, incident):
    """Priority and team, by Guichet's intake rules."""
    if category == "account":
        return "urgent", "security"
    if category == "incident":
        if incident.get("game_name"):
            return ("high" if incident.get("transaction_id") else "normal"), "games"
        return "high", "payments"
    if category in ("transaction", "verification"):
        return "high", TEAMS[category]
    return "normal", TEAMS[category]


def reference():
    symbols = "".join(secrets.choice(ALPHABET) for _ in range(10))
    return f"{symbols[:5]}-{symbols[5:]}"


@idempotent(config=config, persistence_store=persistence)
def handler(event, context):
    claims = event["requestContext"]["authorizer"]["jwt"]["claims"]
    try:
        body = json.loads(event.get("body") or "")
    except ValueError:
        return problem(400, "body", "json")
    if not isinstance(body, dict):
        return problem(400, "body", "object")
    if body.get("channel") not in CHANNELS:
        return problem(400, "channel", "one_of")
    category = body.get("category")
    if category not in TEAMS and category != "incident":
        return problem(400, "category", "one_of")
    subject, error = text(body, "subject", 3, 150)
    if error:
        return error
    description, error = text(body, "description", 10, 5000)
    if error:
        return error
    incident = body.get("incident") or {}
    if (category == "incident") != bool(incident):
        return problem(400, "incident", "required_for_incident")
    language = body.get("language") or "fr"
    priority, team = route(category, incident)
    ref = reference()
    now = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())
    status = "escalated" if category == "account" else "open"
    dynamodb.put_item(
        TableName=TABLE,
        Item={
            "pk": {"S": f"PEER#{ref}"},
            "sk": {"S": "TICKET"},
            "player": {"S": claims["sub"]},
            "channel": {"S": body["channel"]},
            "category": {"S": category},
            "subject": {"S": subject},
            "description": {"S": description},
            "language": {"S": language},
            "priority": {"S": priority},
            "team": {"S": team},
            "status": {"S": status},
            "created_at": {"S": now},
        },
        ConditionExpression="attribute_not_exists(pk)",
    )
    sqs.send_message(
        QueueUrl=NOTIFICATIONS_QUEUE_URL,
        MessageBody=json.dumps(
            {
                "schema": "peer.notification.v1",
                "notification_id": uuid.uuid4().hex,
                "player": claims["sub"],
                "ticket": ref,
                "kind": "received",
                "created_at": now,
            }
        ),
    )
    return {
        "statusCode": 201,
        "headers": {"content-type": "application/json", "location": f"/tickets/{ref}"},
        "body": json.dumps(
            {
                "reference": ref,
                "status": status,
                "priority": priority,
                "team": team,
                "language": language,
                "created_at": now,
            }
        ),
    }
