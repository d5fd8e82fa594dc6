//! The template and the functions' configuration cannot drift apart: every function the
//! template deploys gets, from its environment there, a configuration that `Config` accepts.
//! A renamed variable or a parameter default out of range fails here, not at a cold start.

use std::collections::BTreeMap;

use guichet::config::Config;
use guichet_local::template::Template;

#[test]
fn every_deployed_function_gets_a_valid_configuration() {
    let template = Template::load(&Template::default_path()).expect("infra/template.yaml");
    let physical: BTreeMap<String, String> = template
        .tables("guichet-prod")
        .expect("tables")
        .into_iter()
        .map(|t| (t.logical_id, t.table_name))
        .collect();
    let routes = template.http_routes().expect("routes");
    assert!(!routes.is_empty());
    for route in routes {
        let environment = template
            .function_environment(&route.function, "guichet-prod", &physical)
            .expect("environment resolves");
        let config = Config::from_lookup(|name| environment.get(name).cloned())
            .unwrap_or_else(|e| panic!("{}: {e}", route.function));
        assert_eq!(config.tickets_table, "guichet-prod-tickets");
    }
}
