//! Patchew's list of projects (`GET /api/v1/projects/`), read as the real server
//! writes it: a project object has no `id` field, its id is the last component of
//! its `resource_uri`.

use serde_json::Value;

/// The project of `listed` whose id is `id` (when given) or else whose name is
/// `name`: (id, name).
pub fn find_project(listed: &Value, id: Option<u64>, name: Option<&str>) -> Option<(u64, String)> {
    let projects = listed.get("results").and_then(Value::as_array)?;
    projects.iter().find_map(|p| {
        let found = id_from_resource_uri(p.get("resource_uri")?.as_str()?)?;
        let found_name = p.get("name").and_then(Value::as_str).unwrap_or_default();
        let matches = match (id, name) {
            (Some(wanted), _) => wanted == found,
            (None, Some(wanted)) => found_name == wanted,
            (None, None) => false,
        };
        matches.then(|| (found, found_name.to_owned()))
    })
}

/// `.../api/v1/projects/1/` -> 1.
fn id_from_resource_uri(uri: &str) -> Option<u64> {
    uri.trim_end_matches('/').rsplit('/').next()?.parse().ok()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Patchew's project objects have no `id`: it is read from `resource_uri`.
    #[test]
    fn the_project_id_is_the_last_component_of_resource_uri() {
        let uri = "https://patchew.org/api/v1/projects/12/";
        assert_eq!(id_from_resource_uri(uri), Some(12));
        assert_eq!(id_from_resource_uri("https://p/api/v1/projects/7"), Some(7));
        assert_eq!(
            id_from_resource_uri("https://p/api/v1/projects/QEMU/"),
            None
        );
        assert_eq!(id_from_resource_uri(""), None);
    }

    #[test]
    fn a_project_is_found_by_id_first_then_by_name() {
        let listed = serde_json::json!({"results": [
            {"resource_uri": "http://p/api/v1/projects/1/", "name": "QEMU"},
            {"resource_uri": "http://p/api/v1/projects/2/", "name": "libvirt", "id": 9},
        ]});
        assert_eq!(
            find_project(&listed, None, Some("libvirt")),
            Some((2, "libvirt".into()))
        );
        assert_eq!(
            find_project(&listed, Some(1), Some("libvirt")),
            Some((1, "QEMU".into()))
        );
        // An `id` field, which the real server never sends, is not read.
        assert_eq!(find_project(&listed, Some(9), None), None);
        assert_eq!(find_project(&listed, None, None), None);
    }
}
