//! The whole Service Authorization Reference — every service, not only the four oxiam serves
//! (those are compiled into `oxiam-catalogue`) — read once, on first use, from the extract
//! `codegen/gen-catalogue.py` keeps in `models/`, which is embedded here: linting a policy
//! asks about services oxiam never serves (`ec2:RunInstances`).

use std::collections::BTreeMap;
use std::sync::LazyLock;

use serde::Deserialize;

/// The extract, as `codegen/gen-catalogue.py --fetch` writes it.
static EXTRACT: &str = include_str!("../../../models/service-authorization/catalogue.json");

static REFERENCE: LazyLock<Reference> = LazyLock::new(|| {
    // The extract is checked in and hashed by oxiam-catalogue's tests; a copy that does not
    // read is a broken build, not an input to survive.
    let raw: RawExtract = serde_json::from_str(EXTRACT).expect("models/service-authorization/catalogue.json reads");
    Reference {
        services: raw
            .services
            .into_iter()
            .map(|(prefix, s)| {
                let resources: BTreeMap<String, ResourceType> = s
                    .resources
                    .into_iter()
                    .map(|(name, r)| {
                        let patterns = formats_of(&r.arn).map(arn_format_as_pattern).collect();
                        let resource = ResourceType {
                            arn: r.arn,
                            patterns,
                            keys: r.keys,
                        };
                        (name, resource)
                    })
                    .collect();
                let mut actions: Vec<Action> = s
                    .actions
                    .into_iter()
                    .map(|(name, a)| {
                        // Every key a request for the action may carry: its own, its resource
                        // types' as it uses them, and those types' own.
                        let type_keys = a
                            .resources
                            .iter()
                            .filter_map(|r| resources.get(&r.name))
                            .flat_map(|t| t.keys.iter().cloned())
                            .collect::<Vec<_>>();
                        Action {
                            lower: name.to_ascii_lowercase(),
                            name,
                            access: a.access,
                            resources: a.resources.iter().map(|r| r.name.clone()).collect(),
                            keys: a
                                .keys
                                .into_iter()
                                .chain(a.resources.into_iter().flat_map(|r| r.keys))
                                .chain(type_keys)
                                .collect(),
                        }
                    })
                    .collect();
                actions.sort_by(|a, b| a.lower.cmp(&b.lower));
                let service = Service {
                    prefix: prefix.clone(),
                    title: s.title,
                    actions,
                    resources,
                    keys: s.keys,
                };
                (prefix, service)
            })
            .collect(),
    }
});

/// The reference.
pub fn reference() -> &'static Reference {
    &REFERENCE
}

/// Every service, by prefix.
#[derive(Debug)]
pub struct Reference {
    services: BTreeMap<String, Service>,
}

/// One service.
#[derive(Debug)]
pub struct Service {
    /// `ec2`.
    pub prefix: String,
    /// `Amazon EC2`.
    pub title: String,
    /// Sorted by lower-case name.
    pub actions: Vec<Action>,
    /// Resource types by name.
    pub resources: BTreeMap<String, ResourceType>,
    /// The service's condition keys (and the global tag keys it supports) → their type.
    pub keys: BTreeMap<String, String>,
}

/// A kind of resource.
#[derive(Debug)]
pub struct ResourceType {
    /// Its ARN format: `arn:${Partition}:s3:::${BucketName}/${ObjectName}`.
    pub arn: String,
    /// Each of its formats as a lower-case wildcard pattern (placeholders as `*`).
    pub patterns: Vec<String>,
    /// The condition keys that describe it.
    pub keys: Vec<String>,
}

impl Service {
    /// One of its actions, by name in any case (`getobject`, `GetObject`).
    pub fn action(&self, name: &str) -> Option<&Action> {
        let lower = name.to_ascii_lowercase();
        // The actions are sorted by their lower-case names when the reference is read.
        self.actions
            .binary_search_by(|a| a.lower.as_str().cmp(&lower))
            .ok()
            .map(|at| &self.actions[at])
    }
}

impl ResourceType {
    /// Each of its ARN formats (most types have one).
    pub fn formats(&self) -> impl Iterator<Item = &str> {
        formats_of(&self.arn)
    }
}

/// The formats of a reference's ARN field: a few types give two in one field, `", "` between
/// them (API Gateway's `/apis/…` and `/restapis/…` stages).
fn formats_of(field: &str) -> impl Iterator<Item = &str> {
    field.split(", ")
}

/// A resource type's ARN format as a lower-case wildcard pattern: each `${…}` as `*`.
fn arn_format_as_pattern(format: &str) -> String {
    crate::variables_as_wildcards(format).to_ascii_lowercase()
}

/// One action.
#[derive(Debug)]
pub struct Action {
    /// As the reference writes it: `RunInstances`.
    pub name: String,
    /// Lower case, for matching.
    pub lower: String,
    /// `Read`, `Write`, `List`, `Tagging`, `Permissions management` (the most specific first
    /// when the reference gives several).
    pub access: String,
    /// The resource types it acts on (empty: only `*`).
    pub resources: Vec<String>,
    /// The condition keys it supports, its resource types' included.
    pub keys: Vec<String>,
}

impl Reference {
    /// A service by prefix, regardless of case.
    pub fn service(&self, prefix: &str) -> Option<&Service> {
        self.services.get(&prefix.to_ascii_lowercase())
    }

    /// Every service.
    pub fn services(&self) -> impl Iterator<Item = &Service> {
        self.services.values()
    }
}

impl Action {
    /// The access level the reference gives first (`Permissions management` for an action
    /// listed as `Permissions management, Write`).
    pub fn access_level(&self) -> &str {
        self.access.split(',').next().unwrap_or_default().trim()
    }
}

#[derive(Deserialize)]
struct RawExtract {
    services: BTreeMap<String, RawService>,
}

#[derive(Deserialize)]
struct RawService {
    actions: BTreeMap<String, RawAction>,
    keys: BTreeMap<String, String>,
    resources: BTreeMap<String, RawResourceType>,
    title: String,
}

#[derive(Deserialize)]
struct RawAction {
    access: String,
    keys: Vec<String>,
    resources: Vec<RawActionResource>,
}

#[derive(Deserialize)]
struct RawActionResource {
    name: String,
    keys: Vec<String>,
}

#[derive(Deserialize)]
struct RawResourceType {
    arn: String,
    keys: Vec<String>,
}
