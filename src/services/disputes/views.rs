//! Disputes as the API and pages show them, and what a session page needs
//! to offer a dispute.

use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;

use super::{party_for, side_of};
use crate::db::repos::disputes::{DisputeRow, MessageRow};
use crate::domain::dispute::{DisputeKind, DisputeOutcome, DisputeSide, MessageAuthor};
use crate::domain::UserId;
use crate::domain::{ConsultingSessionId, DisputeId, DisputeMessageId, DisputeStatus, ReviewId};
use crate::services::sessions::Party;

/// A dispute as a participant or an admin sees it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct DisputeView {
    pub id: DisputeId,
    pub session_id: ConsultingSessionId,
    pub kind: DisputeKind,
    /// The disputed review (kind `review`).
    pub review_id: Option<ReviewId>,
    /// `reader`, `researcher`, or `stripe` for a chargeback.
    pub opened_by: DisputeSide,
    pub status: DisputeStatus,
    /// What the opener wrote (for a chargeback: Stripe's reason).
    pub description: String,
    /// The other participant may answer until then.
    pub respond_by: Option<DateTime<Utc>>,
    pub outcome: Option<DisputeOutcome>,
    /// Refunded by the resolution, in minor units of `currency`.
    pub refund_minor: Option<i64>,
    pub currency: String,
    /// The resolution's note, once resolved.
    pub note: Option<String>,
    /// Stripe's status of a chargeback (`needs_response`, `won`, `lost`…).
    pub stripe_status: Option<String>,
    pub reader_name: String,
    pub researcher_name: String,
    pub session_start: DateTime<Utc>,
    /// The caller's part: reader, researcher or admin.
    pub your_role: Party,
    /// What the caller may do now: `message`, `withdraw`, `contest`,
    /// `review`, `resolve`.
    pub actions: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub resolved_at: Option<DateTime<Utc>>,
    /// Oldest first; in `GET /consulting/disputes/{id}` only.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub messages: Option<Vec<MessageView>>,
}

/// One message of a dispute.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct MessageView {
    pub id: DisputeMessageId,
    /// `reader`, `researcher`, `admin` or `system`.
    pub author_role: MessageAuthor,
    pub author_name: String,
    pub text: String,
    pub created_at: DateTime<Utc>,
}

impl From<MessageRow> for MessageView {
    fn from(m: MessageRow) -> Self {
        Self {
            id: m.id,
            author_name: m
                .author_name
                .unwrap_or_else(|| m.author_role.label().to_string()),
            author_role: m.author_role,
            text: m.text,
            created_at: m.created_at,
        }
    }
}

/// What the caller may do with the dispute now.
fn actions(d: &DisputeRow, party: Party, me: UserId) -> Vec<String> {
    if !d.status.is_open() {
        return Vec::new();
    }
    let mut out = vec!["message"];
    let answering = d.opened_by.other().and_then(party_for) == Some(party);
    let waiting = matches!(
        d.status,
        DisputeStatus::Open | DisputeStatus::AwaitingResponse
    );
    if d.opener_id == Some(me) && side_of(party).is_some() {
        out.push("withdraw");
    }
    if d.kind == DisputeKind::NoShow && answering && waiting {
        out.push("contest");
    }
    if party == Party::Admin {
        if waiting {
            out.push("review");
        }
        out.push("resolve");
    }
    out.into_iter().map(str::to_string).collect()
}

pub(super) fn view(
    d: DisputeRow,
    party: Party,
    me: UserId,
    messages: Option<Vec<MessageRow>>,
) -> DisputeView {
    DisputeView {
        actions: actions(&d, party, me),
        id: d.id,
        session_id: d.session_id,
        kind: d.kind,
        review_id: d.review_id,
        opened_by: d.opened_by,
        status: d.status,
        description: d.description,
        respond_by: d.respond_by,
        outcome: d.outcome,
        refund_minor: d.refund_minor,
        currency: d.currency,
        note: d.note,
        stripe_status: d.stripe_status,
        reader_name: d.reader_name,
        researcher_name: d.researcher_name,
        session_start: d.session_start,
        your_role: party,
        created_at: d.created_at,
        updated_at: d.updated_at,
        resolved_at: d.resolved_at,
        messages: messages.map(|m| m.into_iter().map(MessageView::from).collect()),
    }
}

impl DisputeView {
    /// Whether the caller may do `action` now.
    pub fn can(&self, action: &str) -> bool {
        self.actions.iter().any(|a| a == action)
    }
}

/// What a session's page says about disputes: the open one, or what the
/// viewer may open and until when.
#[derive(Debug, Clone, Default)]
pub struct SessionDisputes {
    /// The session's open dispute.
    pub open: Option<DisputeId>,
    /// The kinds the viewer may open now (empty: none).
    pub kinds: Vec<DisputeKind>,
    /// The session's reviews the viewer may dispute: (id, words).
    pub reviews: Vec<(ReviewId, String)>,
    /// Disputes may be opened until then.
    pub until: Option<DateTime<Utc>>,
    /// Every dispute of the session, newest first: (id, kind, status).
    pub all: Vec<(DisputeId, DisputeKind, DisputeStatus)>,
}
