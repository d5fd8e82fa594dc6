//! The template and the functions' configuration cannot drift apart: every function the
//! template deploys gets, from its environment there, a configuration that `Config` accepts.
//! A renamed variable or a parameter default out of range fails here, not at a cold start.

use std::collections::BTreeMap;

use guichet_edge::config::{Config, KycConfig};
use guichet_local::template::{Template, BUCKET_TYPE, SECRET_TYPE, TABLE_TYPE};

#[test]
fn every_deployed_function_gets_a_valid_configuration() {
    let template = Template::load(&Template::default_path()).expect("infra/template.yaml");
    let (stack, account, region) = ("guichet-prod", "123456789012", "ca-central-1");
    let mut physical = BTreeMap::new();
    for kind in [TABLE_TYPE, BUCKET_TYPE] {
        physical.extend(template.names(kind, stack, account, region).expect("names"));
    }
    for queue in template.queues(stack, account, region).expect("queues") {
        let url = format!(
            "https://sqs.{region}.amazonaws.com/{account}/{}",
            queue.queue_name
        );
        physical.insert(queue.logical_id, url);
    }
    // A secret's `Ref` is its ARN: its name and the suffix Secrets Manager adds.
    for (logical_id, name) in template
        .names(SECRET_TYPE, stack, account, region)
        .expect("names")
    {
        let arn = format!("arn:aws:secretsmanager:{region}:{account}:secret:{name}-AbCdEf");
        physical.insert(logical_id, arn);
    }
    let routes = template.http_routes().expect("routes");
    assert!(!routes.is_empty());
    for route in routes {
        let environment = template
            .function_environment(&route.function, "guichet-prod", &physical)
            .expect("environment resolves");
        let lookup = |name: &str| environment.get(name).cloned();
        let config =
            Config::from_lookup(lookup).unwrap_or_else(|e| panic!("{}: {e}", route.function));
        assert_eq!(config.tickets_table, "guichet-prod-tickets");
        if route.path.starts_with("/verification") || route.path.starts_with("/players") {
            let kyc = KycConfig::from_lookup(lookup)
                .unwrap_or_else(|e| panic!("{}: {e}", route.function));
            assert_eq!(kyc.documents_bucket, "guichet-prod-documents-123456789012");
        }
    }
}
