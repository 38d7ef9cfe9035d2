//! One id type per table, so a `PaperId` can never be passed where a
//! `UserId` is meant.

/// A row's integer key, whatever its table: what generic code (keyset
/// cursors) needs to read and rebuild an id. A plain `i64` is one too, for
/// keys that are positions rather than ids.
pub trait RowKey: Copy {
    fn from_raw(raw: i64) -> Self;
    fn raw(self) -> i64;
}

impl RowKey for i64 {
    fn from_raw(raw: i64) -> Self {
        raw
    }

    fn raw(self) -> i64 {
        self
    }
}

macro_rules! typed_id {
    ($($name:ident),* $(,)?) => {$(
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord,
                 serde::Serialize, serde::Deserialize, utoipa::ToSchema)]
        #[serde(transparent)]
        pub struct $name(pub i64);

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                self.0.fmt(f)
            }
        }

        impl RowKey for $name {
            fn from_raw(raw: i64) -> Self {
                Self(raw)
            }

            fn raw(self) -> i64 {
                self.0
            }
        }

        impl rusqlite::ToSql for $name {
            fn to_sql(&self) -> rusqlite::Result<rusqlite::types::ToSqlOutput<'_>> {
                Ok(rusqlite::types::ToSqlOutput::from(self.0))
            }
        }

        impl rusqlite::types::FromSql for $name {
            fn column_result(v: rusqlite::types::ValueRef<'_>) -> rusqlite::types::FromSqlResult<Self> {
                i64::column_result(v).map(Self)
            }
        }
    )*};
}

typed_id!(
    UserId,
    PaperId,
    QueryId,
    SessionId,
    AuditId,
    ResearcherId,
    JobId,
    ConsultingSessionId,
    ClaimRequestId,
    MergeReviewId,
    LedgerEntryId,
    InvoiceId,
    MailId,
    OutreachId,
    SubscriptionId,
    ProviderCallId,
    ReviewId,
    DisputeId,
    DisputeMessageId
);
