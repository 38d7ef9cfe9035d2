//! Consents an account gives and withdraws (the `consents` ledger), and the
//! legal documents it accepts.

use std::fmt;

use super::status::{status_enum, UnknownStatus};

status_enum!(
    /// What a consent is about.
    ConsentKind, "consent kind" {
        /// The terms of use, at a version.
        Terms = "terms",
        /// The privacy notice, at a version (read and acknowledged).
        PrivacyNotice = "privacy_notice",
        /// The account's researcher profile is public and bookable.
        ResearcherListing = "researcher_listing",
        /// One reminder to review a session after it took place.
        ReviewReminders = "review_reminders",
        /// Mail that is not needed to run the account's own business, such
        /// as notices that readers are waiting to book.
        ProductEmail = "product_email",
    }
);

status_enum!(
    /// A ledger row gives or withdraws.
    ConsentAction, "consent action" {
        Grant = "grant",
        Withdraw = "withdraw",
    }
);

status_enum!(
    /// Where a consent was given or withdrawn.
    ConsentSource, "consent source" {
        Registration = "registration",
        Account = "account",
        Api = "api",
        Interstitial = "interstitial",
        Invitation = "invitation",
        Claim = "claim",
        ReviewSettings = "review_settings",
        Demo = "demo",
        Migration = "migration",
    }
);

status_enum!(
    /// A versioned legal text.
    LegalDocument, "legal document" {
        Terms = "terms",
        PrivacyNotice = "privacy_notice",
    }
);

impl ConsentKind {
    /// The state of a kind for an account without any row of it. E-mail
    /// reminders and product mail are on until withdrawn (an account
    /// holder's own service, which they can refuse at any time); the terms,
    /// the privacy notice and a listing need an explicit grant.
    pub const fn granted_by_default(self) -> bool {
        matches!(self, Self::ReviewReminders | Self::ProductEmail)
    }

    /// The legal document a kind accepts, if it is one.
    pub const fn document(self) -> Option<LegalDocument> {
        match self {
            Self::Terms => Some(LegalDocument::Terms),
            Self::PrivacyNotice => Some(LegalDocument::PrivacyNotice),
            _ => None,
        }
    }
}

impl LegalDocument {
    pub const fn kind(self) -> ConsentKind {
        match self {
            Self::Terms => ConsentKind::Terms,
            Self::PrivacyNotice => ConsentKind::PrivacyNotice,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kinds_read_back_as_stored_and_unknown_ones_are_refused() {
        for k in ConsentKind::ALL {
            assert_eq!(k.as_str().parse::<ConsentKind>().unwrap(), *k);
        }
        assert!("newsletter".parse::<ConsentKind>().is_err());
        assert_eq!(
            LegalDocument::PrivacyNotice.kind().document(),
            Some(LegalDocument::PrivacyNotice)
        );
        assert!(ConsentKind::ResearcherListing.document().is_none());
    }
}
