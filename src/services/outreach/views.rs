//! Outreach as the admin pages show it.

use crate::db::repos::outreach::{Demand, OutreachRow};
use crate::domain::{
    MailId, OutreachId, OutreachStatus, PaperId, ResearcherId, ResearcherStatus, UserId,
};

/// One invitation (or interest notice) with its history.
#[derive(Debug, Clone)]
pub struct InvitationView {
    pub id: OutreachId,
    pub researcher_id: ResearcherId,
    pub researcher_name: String,
    pub paper_id: Option<PaperId>,
    pub requested_by: Option<UserId>,
    /// `invitation` or `interest_notice`.
    pub kind: String,
    pub status: OutreachStatus,
    pub mail_id: Option<MailId>,
    pub created_at: String,
    /// (status reached, at), oldest first.
    pub events: Vec<(OutreachStatus, String)>,
}

impl From<OutreachRow> for InvitationView {
    fn from(o: OutreachRow) -> Self {
        Self {
            id: o.id,
            researcher_id: o.researcher_id,
            researcher_name: o.researcher_name,
            paper_id: o.paper_id,
            requested_by: o.requested_by,
            kind: o.kind,
            status: o.status,
            mail_id: o.mail_id,
            created_at: o.created_at,
            events: o.events,
        }
    }
}

/// A researcher readers are waiting for.
#[derive(Debug, Clone)]
pub struct DemandView {
    pub researcher_id: ResearcherId,
    pub name: String,
    pub affiliation: Option<String>,
    pub status: ResearcherStatus,
    pub has_email: bool,
    pub waiting: i64,
    pub last_invited: Option<String>,
}

impl From<Demand> for DemandView {
    fn from(d: Demand) -> Self {
        Self {
            researcher_id: d.researcher_id,
            name: d.name,
            affiliation: d.affiliation,
            status: d.status,
            has_email: d.has_email,
            waiting: d.waiting,
            last_invited: d.last_invited,
        }
    }
}
