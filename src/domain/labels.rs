//! Every status and role in the words pages show people. The stored
//! spellings (`as_str`: `queued`, `no_show`, `opted_out`) stay in the
//! database and the API; a page prints `label()` instead.

use super::consent::{ConsentKind, ConsentSource};
use super::role::Role;
use super::status::*;

/// Generates `label()` for an enum from one arm per value.
macro_rules! labels {
    ($name:ident { $($variant:ident => $text:literal),+ $(,)? }) => {
        impl $name {
            /// The value in the words a page shows.
            pub const fn label(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }
        }
    };
}

labels!(SessionStatus {
    Requested => "requested",
    Accepted => "accepted",
    Declined => "declined",
    Expired => "expired",
    Cancelled => "cancelled",
    Completed => "completed",
    NoShow => "missed (no-show)",
});

labels!(PaymentStatus {
    Pending => "not paid yet",
    Authorized => "card held",
    Captured => "paid",
    Canceled => "hold released",
    Refunded => "refunded",
    PartiallyRefunded => "partly refunded",
    Failed => "failed",
});

labels!(SubscriptionStatus {
    Incomplete => "waiting for the first payment",
    IncompleteExpired => "never started",
    Trialing => "trial",
    Active => "active",
    PastDue => "payment overdue",
    Unpaid => "unpaid",
    Paused => "paused",
    Canceled => "cancelled",
    Expired => "ended",
});

labels!(CollectionStatus {
    NotCollected => "not collected yet",
    Queued => "waiting to start",
    Running => "collecting",
    Collected => "collected",
    Partial => "partly collected",
    Failed => "failed",
});

labels!(JobStatus {
    Queued => "waiting to start",
    Running => "running",
    Completed => "done",
    Partial => "partly done",
    Failed => "failed",
});

labels!(MailStatus {
    Queued => "waiting to be sent",
    Sent => "sent",
    Failed => "failed",
    Held => "held: an admin must send it",
});

labels!(OutreachStatus {
    Queued => "waiting to be sent",
    Sent => "sent",
    Opened => "link opened",
    Registered => "registered",
    OptedOut => "opted out",
    Failed => "could not be delivered",
});

labels!(ResearcherStatus {
    Collected => "not invited yet",
    Invited => "invited",
    Registered => "registered",
    OptedOut => "opted out",
});

labels!(ClaimStatus {
    Open => "waiting for a decision",
    Approved => "approved",
    Refused => "refused",
});

labels!(MergeReviewStatus {
    Open => "waiting for a decision",
    Merged => "merged",
    Dismissed => "not the same person",
});

labels!(ConsentKind {
    Terms => "terms of use",
    PrivacyNotice => "privacy notice",
    ResearcherListing => "public, bookable researcher profile",
    ReviewReminders => "reminders to review a session",
    ProductEmail => "product e-mail (such as news that readers want to book you)",
});

labels!(ConsentSource {
    Registration => "at registration",
    Account => "on the account page",
    Api => "through the API",
    Interstitial => "on the page asking to accept",
    Invitation => "through an invitation link",
    Claim => "when claiming the profile",
    ReviewSettings => "in the review e-mail settings",
    Demo => "demo data",
    Migration => "recorded before the consent log existed",
});

labels!(Role {
    User => "reader",
    Researcher => "researcher",
    Admin => "admin",
});

/// Where a profile value came from, or which collection step ran, in
/// words (`researcher_field_sources.provider`, `collection_steps.provider`).
pub fn provider_label(provider: &str) -> &str {
    match provider {
        "identify" => "finding the person",
        "paper" => "the paper's author list",
        "openalex" => "OpenAlex",
        "firecrawl" => "Firecrawl (web pages)",
        "rocketreach" => "RocketReach (e-mail directory)",
        "tavily" => "Tavily (web search)",
        "researcher" => "the researcher",
        "admin" => "an admin",
        other => other,
    }
}

/// An audit event's action in words ("user.role_changed" → "role
/// changed"); an action not listed reads as its words.
pub fn audit_action_label(action: &str) -> String {
    let words = match action {
        "auth.register" => "registered",
        "auth.register_existing" => "registration tried with a taken address",
        "auth.register_replaced_unverified" => "registered over an unconfirmed account",
        "auth.email_verified" => "confirmed the e-mail address",
        "auth.login" => "signed in",
        "auth.login_failed" => "failed sign-in",
        "auth.login_disabled" => "sign-in refused: account disabled",
        "auth.logout" => "signed out",
        "auth.refresh_reuse" => "old refresh token reused: session ended",
        "auth.password_changed" => "changed the password",
        "auth.setup_admin" => "first admin set up",
        "user.created_by_cli" => "account made on the command line",
        "user.demo_password_reset" => "demo password reset",
        "user.role_changed" => "role changed",
        "user.disabled" => "account disabled",
        "user.enabled" => "account enabled",
        "user.deleted" => "account deleted",
        "paper.created" => "paper added",
        "keys.rotated" => "encryption keys rotated",
        "keys.dropped" => "old encryption keys dropped",
        "retention.run" => "old data removed (retention)",
        "collection.requested" => "profile collection started",
        "collection.retried" => "profile collection retried",
        "provider.enabled" => "provider enabled again",
        "mail.test_sent" => "test message sent",
        "mail.retried" => "message sent again",
        "outreach.invited" => "researcher invited",
        "outreach.interest_notice" => "researcher told of readers' interest",
        "researcher.registered" => "researcher registered",
        "researcher.claimed" => "profile claimed",
        "researcher.claim_requested" => "asked to claim a profile",
        "researcher.claim_approved" => "claim approved",
        "researcher.claim_refused" => "claim refused",
        "researcher.email_set" => "profile address set",
        "researcher.linked_by_admin" => "account linked to a profile",
        "researcher.merged" => "profiles merged",
        "researcher.merge_dismissed" => "not the same person",
        "researcher.opted_out" => "researcher opted out",
        "researcher.old_address_opted_out" => "old address opted out",
        "payment.refunded_by_admin" => "refund by an admin",
        "review.created" => "review written",
        "review.edited" => "review edited",
        "review.answered" => "review answered",
        "review.reported" => "review reported",
        "review.moderated" => "review moderated",
        "payment.dispute_opened" => "payment disputed",
        "dispute.opened" => "dispute opened",
        "dispute.awaiting_response" => "dispute told to the other participant",
        "dispute.answered" => "dispute answered",
        "dispute.contested" => "no-show claim contested",
        "dispute.under_review" => "dispute taken up for review",
        "dispute.resolved" => "dispute resolved",
        "dispute.withdrawn" => "dispute withdrawn",
        "dispute.chargeback_opened" => "chargeback opened as a dispute",
        "dispute.chargeback_linked" => "chargeback added to a dispute",
        "consent.granted" => "consent given",
        "consent.withdrawn" => "consent withdrawn",
        other => return other.replace(['.', '_'], " "),
    };
    words.to_string()
}

/// A profile field's name in words (`h_index` → "h-index").
pub fn field_label(field: &str) -> &str {
    match field {
        "name" => "Name",
        "affiliation" => "Affiliation",
        "orcid" => "ORCID",
        "openalex_id" => "OpenAlex id",
        "email" => "E-mail",
        "bio" => "Bio",
        "homepage" => "Homepage",
        "works_count" => "Works",
        "cited_by_count" => "Citations",
        "h_index" => "h-index",
        "topics" => "Topics",
        "recent_works" => "Recent work",
        "publications" => "Publications",
        "achievements" => "Achievements",
        other => other,
    }
}

/// A collection step's or a provider call's outcome, in words.
pub fn outcome_label(outcome: &str) -> &str {
    match outcome {
        "ok" => "done",
        "empty" => "nothing found",
        "not_needed" => "not needed",
        "skipped" => "skipped: no API key",
        "unavailable" => "provider unavailable",
        "failed" => "failed",
        "not_found" => "not found",
        "error" => "error",
        "cached" => "answered from the cache",
        other => other,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A label is words: no underscores, and never just the stored code
    /// when that code is jargon.
    #[test]
    fn no_label_is_an_internal_code() {
        let labels = SessionStatus::ALL
            .iter()
            .map(|s| s.label())
            .chain(PaymentStatus::ALL.iter().map(|s| s.label()))
            .chain(SubscriptionStatus::ALL.iter().map(|s| s.label()))
            .chain(CollectionStatus::ALL.iter().map(|s| s.label()))
            .chain(JobStatus::ALL.iter().map(|s| s.label()))
            .chain(MailStatus::ALL.iter().map(|s| s.label()))
            .chain(OutreachStatus::ALL.iter().map(|s| s.label()))
            .chain(ResearcherStatus::ALL.iter().map(|s| s.label()))
            .chain(ClaimStatus::ALL.iter().map(|s| s.label()))
            .chain(MergeReviewStatus::ALL.iter().map(|s| s.label()));
        for l in labels {
            assert!(!l.contains('_') && l != "queued" && !l.is_empty(), "{l}");
        }
        assert_eq!(Role::User.label(), "reader");
        for code in [
            "identify",
            "openalex",
            "rocketreach",
            "not_needed",
            "not_found",
        ] {
            let words = [provider_label(code), outcome_label(code)];
            assert!(
                words.iter().any(|w| *w != code && !w.contains('_')),
                "{code}"
            );
        }
    }
}
