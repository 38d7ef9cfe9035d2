//! Answers every operation can give because of how it is reached, added
//! to the document from what the operation declares, so a new route
//! cannot forget them (issue 17: the fuzzer saw them sent but not
//! documented):
//!
//! - every operation: 429 (the rate limiter runs in front of all of them);
//! - a bearer token is accepted: 401 (missing, expired or revoked token)
//!   and 403 (the terms are not accepted yet, the role does not allow it,
//!   or an admin route from outside `admin_allowed_ips`);
//! - a body is read (`AppJson`): 400 (not JSON), 413 (too large), 415
//!   (not `application/json`) and 422 (valid JSON, wrong fields);
//! - a list is paginated (`cursor`): 400 (`invalid_cursor`) and 422
//!   (`limit` outside 1–100).
//!
//! What an operation documents itself is kept.

use utoipa::openapi::path::{Operation, Parameter, ParameterIn};
use utoipa::openapi::{ContentBuilder, OpenApi, Ref, RefOr, ResponseBuilder};

/// Adds the implied answers to every operation of `api`.
pub fn add(api: &mut OpenApi) {
    super::operation_ids::for_each(api, |_, op| add_to(op));
}

fn add_to(op: &mut Operation) {
    let token = op.security.as_ref().is_some_and(|reqs| {
        reqs.iter().any(|r| {
            serde_json::to_value(r)
                .ok()
                .and_then(|v| v.as_object().map(|o| !o.is_empty()))
                .unwrap_or(false)
        })
    });
    implied(
        op,
        "429",
        "Too many requests from this address or account (`rate_limited`); see `Retry-After`.",
    );
    if token {
        implied(op, "401", "No token, or an expired or revoked one.");
        implied(
            op,
            "403",
            "Not allowed: the current terms are not accepted yet (`terms_not_accepted`), the caller's role does not allow it, or an admin route was called from outside `admin_allowed_ips`.",
        );
    }
    if op.request_body.is_some() {
        implied(op, "400", "The body is not valid JSON (`malformed_json`).");
        implied(op, "413", "The body is larger than the server accepts.");
        implied(op, "415", "The body is not `application/json`.");
        implied(
            op,
            "422",
            "The body is valid JSON but not the expected object, or a field is invalid (named in `fields`).",
        );
    }
    let paginated = op
        .parameters
        .iter()
        .flatten()
        .any(|p| p.name == "cursor" && matches!(p.parameter_in, ParameterIn::Query));
    if paginated {
        implied(
            op,
            "400",
            "`cursor` is not one this list gave (`invalid_cursor`).",
        );
        implied(op, "422", "`limit` is not between 1 and 100.");
        for p in op.parameters.iter_mut().flatten() {
            if p.name == "limit" {
                limit_range(p);
            }
        }
    }
}

/// `limit` is 1–100 on every list (`PageParams::limit`), whichever query
/// struct carries it; an unsigned integer alone would say 0 is allowed.
fn limit_range(p: &mut Parameter) {
    let Ok(mut v) = serde_json::to_value(&*p) else {
        return;
    };
    v["schema"]["minimum"] = 1.into();
    v["schema"]["maximum"] = crate::pagination::MAX_LIMIT.into();
    if let Ok(bounded) = serde_json::from_value(v) {
        *p = bounded;
    }
}

/// Documents `status` with the error body, unless the operation already
/// documents it.
fn implied(op: &mut Operation, status: &str, description: &str) {
    op.responses
        .responses
        .entry(status.to_string())
        .or_insert_with(|| {
            RefOr::T(
                ResponseBuilder::new()
                    .description(description)
                    .content(
                        "application/json",
                        ContentBuilder::new()
                            .schema(Some(Ref::from_schema_name("ErrorBody")))
                            .build(),
                    )
                    .build(),
            )
        });
}
