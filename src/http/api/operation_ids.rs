//! utoipa names an operation after its handler, so `get` in `papers` and
//! `get` in `sessions` both became `get`: the document was not valid
//! OpenAPI (operation ids must be unique) and client generators refused
//! or renamed at random. Ids used once stay as they are (clients already
//! use them); a shared id becomes the path's resource segments plus the
//! handler's name, e.g. `papers_get`, `admin_disputes_list`.

use std::collections::HashMap;

use utoipa::openapi::path::Operation;
use utoipa::openapi::OpenApi;

/// Makes every operation id in `api` unique.
pub fn make_unique(api: &mut OpenApi) {
    let mut seen: HashMap<String, usize> = HashMap::new();
    for_each(api, |_, op| {
        if let Some(id) = &op.operation_id {
            *seen.entry(id.clone()).or_default() += 1;
        }
    });
    for_each(api, |path, op| {
        let Some(id) = op.operation_id.as_deref() else {
            return;
        };
        if seen.get(id).copied().unwrap_or(0) > 1 {
            op.operation_id = Some(qualified(path, id));
        }
    });
}

/// Calls `f` with every operation of `api` and its path.
pub(super) fn for_each(api: &mut OpenApi, mut f: impl FnMut(&str, &mut Operation)) {
    for (path, item) in api.paths.paths.iter_mut() {
        for op in [
            &mut item.get,
            &mut item.put,
            &mut item.post,
            &mut item.delete,
            &mut item.options,
            &mut item.head,
            &mut item.patch,
            &mut item.trace,
        ]
        .into_iter()
        .flatten()
        {
            f(path, op);
        }
    }
}

/// `/api/v1/consulting/disputes/{dispute_id}/withdraw` and `withdraw`
/// give `consulting_disputes_withdraw`.
fn qualified(path: &str, name: &str) -> String {
    let mut parts: Vec<String> = path
        .trim_start_matches("/api/v1/")
        .split('/')
        .filter(|s| !s.is_empty() && !s.starts_with('{'))
        .map(|s| s.replace('-', "_"))
        .collect();
    if parts.last().is_some_and(|last| last == name) {
        parts.pop();
    }
    parts.push(name.to_string());
    parts.join("_")
}

#[cfg(test)]
mod tests {
    use super::qualified;

    #[test]
    fn names_come_from_the_path() {
        assert_eq!(qualified("/api/v1/papers/{id}", "get"), "papers_get");
        assert_eq!(
            qualified(
                "/api/v1/consulting/disputes/{dispute_id}/withdraw",
                "withdraw"
            ),
            "consulting_disputes_withdraw"
        );
        assert_eq!(
            qualified("/api/v1/data-requests", "create"),
            "data_requests_create"
        );
        assert_eq!(
            qualified("/api/v1/users/me/terms", "accept"),
            "users_me_terms_accept"
        );
    }
}
