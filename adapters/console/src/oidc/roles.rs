//! From the identity provider's claims to sprechstunde roles and a department: a pure
//! function of the claims and the mapping table (`[[oidc.mapping]]`), unit-tested below.

use std::collections::BTreeSet;

use serde::Deserialize;
use serde_json::Value;
use sprechstunde_core::Role;

/// One row of the mapping table: a claim value (such as the group `/rathaus/buergerreferat`)
/// and what it grants.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RoleMapping {
    /// The claim value, compared exactly (Keycloak's group paths start with `/`).
    pub value: String,
    /// The roles it grants.
    pub roles: Vec<Role>,
    /// The slug of the department it places the member in; empty for none.
    #[serde(default)]
    pub department: String,
}

/// What the claims grant.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Granted {
    /// Every role of every matching row.
    pub roles: BTreeSet<Role>,
    /// The department of the first matching row that names one.
    pub department: Option<String>,
}

/// The values of the claim at `path` (dots walk into objects, as in Keycloak's
/// `realm_access.roles`): an array of strings, or one string. Anything else has no values.
pub fn claim_values(claims: &Value, path: &str) -> Vec<String> {
    let mut at = claims;
    for part in path.split('.') {
        match at.get(part) {
            Some(next) => at = next,
            None => return Vec::new(),
        }
    }
    match at {
        Value::String(s) => vec![s.clone()],
        Value::Array(items) => items
            .iter()
            .filter_map(|v| v.as_str().map(str::to_owned))
            .collect(),
        _ => Vec::new(),
    }
}

/// The roles and department that `values` grant under `mapping`. No matching row: no roles
/// (the caller refuses the login).
pub fn grant(values: &[String], mapping: &[RoleMapping]) -> Granted {
    let mut granted = Granted::default();
    for row in mapping.iter().filter(|row| values.contains(&row.value)) {
        granted.roles.extend(row.roles.iter().copied());
        if granted.department.is_none() && !row.department.trim().is_empty() {
            granted.department = Some(row.department.trim().to_owned());
        }
    }
    granted
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn table() -> Vec<RoleMapping> {
        vec![
            RoleMapping {
                value: "/rathaus/buergerreferat".into(),
                roles: vec![Role::CitizensOffice],
                department: String::new(),
            },
            RoleMapping {
                value: "/rathaus/tiefbau".into(),
                roles: vec![Role::Department],
                department: "tiefbau".into(),
            },
            RoleMapping {
                value: "/rathaus/pressestelle".into(),
                roles: vec![Role::PressOffice, Role::Host],
                department: String::new(),
            },
        ]
    }

    #[test]
    fn every_matching_group_adds_its_roles_and_the_first_department_wins() {
        let values = vec![
            "/rathaus/pressestelle".to_owned(),
            "/rathaus/tiefbau".to_owned(),
            "/andere/gruppe".to_owned(),
        ];

        let granted = grant(&values, &table());

        assert_eq!(
            granted.roles,
            BTreeSet::from([Role::Department, Role::Host, Role::PressOffice])
        );
        assert_eq!(granted.department.as_deref(), Some("tiefbau"));
    }

    #[test]
    fn a_user_without_a_mapped_group_is_granted_nothing() {
        let granted = grant(&["/andere/gruppe".to_owned()], &table());

        assert_eq!(granted, Granted::default());
        assert_eq!(grant(&[], &table()), Granted::default());
    }

    #[test]
    fn claim_values_are_read_from_arrays_strings_and_nested_paths() {
        let claims = json!({
            "groups": ["/a", "/b", 3],
            "role": "/c",
            "realm_access": {"roles": ["admin"]},
            "odd": {"x": 1},
        });

        assert_eq!(claim_values(&claims, "groups"), ["/a", "/b"]);
        assert_eq!(claim_values(&claims, "role"), ["/c"]);
        assert_eq!(claim_values(&claims, "realm_access.roles"), ["admin"]);
        assert!(claim_values(&claims, "odd").is_empty());
        assert!(claim_values(&claims, "missing.path").is_empty());
    }

    #[test]
    fn values_are_compared_exactly() {
        let granted = grant(&["/Rathaus/Buergerreferat".to_owned()], &table());

        assert!(granted.roles.is_empty());
    }
}
